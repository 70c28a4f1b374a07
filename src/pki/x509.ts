// The one place that loads @peculiar/x509: its DI container (tsyringe) needs reflect-metadata first, and the
// library must be pointed at Node's WebCrypto. Everything in src/pki imports x509 from here.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
