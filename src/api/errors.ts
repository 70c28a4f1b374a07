// Errors as App Mesh answers them: the exception's name in `x-amzn-ErrorType`, `{"message": ...}`
// as the body, and the status code of App Mesh's model (the SDKs and the CLI read the name from the
// header and show it with the message). The authentication failures use the names AWS's front door
// gives them, which is what an App Mesh user saw for a bad or missing signature.

/** HTTP status of every error App Mesh's model declares, plus the front door's 403s. */
export const errorStatus = {
  BadRequestException: 400,
  ConflictException: 409,
  ForbiddenException: 403,
  InternalServerErrorException: 500,
  LimitExceededException: 400,
  NotFoundException: 404,
  ResourceInUseException: 409,
  ServiceUnavailableException: 503,
  TooManyRequestsException: 429,
  TooManyTagsException: 400,
  // Signature checks happen before App Mesh sees a request; these are the gateway's names.
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
} as const;

export type ApiErrorName = keyof typeof errorStatus;

/** An error answered to the client: its name, status and message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(readonly errorName: ApiErrorName, message: string) {
    super(message);
    this.name = errorName;
    this.status = errorStatus[errorName];
  }
}

export const badRequest = (message: string): ApiError => new ApiError('BadRequestException', message);
export const notFound = (message: string): ApiError => new ApiError('NotFoundException', message);
