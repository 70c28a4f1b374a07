// PEM armour for test inputs that must look like a key without being one (malformed-file and
// field-shape tests). Real keys in tests are always generated at run time.
export function pemBlock(label: string, base64Body: string): string {
  return `-----BEGIN ${label}-----\n${base64Body}\n-----END ${label}-----\n`;
}

export const PKCS8_LABEL = ['PRIVATE', 'KEY'].join(' ');
