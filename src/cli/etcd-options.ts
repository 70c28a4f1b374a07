// How meshd reaches a secured etcd, the same on every command that takes --store (serve, store
// import, store export): client TLS (https to the members, optionally a client certificate) and
// etcd's own user/password auth. The password comes only from a file, never the command line
// (where `ps` and shell history would show it). Each file is read and checked here, so a wrong
// path or a file of the wrong kind is refused naming the flag and the file, before etcd is dialled.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import type { Command } from 'commander';
import type { EtcdStoreOptions } from '../store';

export interface EtcdClientFlags {
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUser?: string;
  etcdPasswordFile?: string;
}

/** Adds the etcd TLS and auth flags to a command that takes --store. */
export function addEtcdClientOptions(command: Command): Command {
  return command
    .option('--etcd-ca <file>', 'with --store: CA certificate (PEM) of the etcd members; connects with TLS (https)')
    .option('--etcd-cert <file>', 'with --store and --etcd-ca: client certificate (PEM) for etcd --client-cert-auth')
    .option('--etcd-key <file>', 'with --etcd-cert: its private key (PEM)')
    .option('--etcd-user <name>', 'with --store: etcd user (etcd auth enabled); needs --etcd-password-file')
    .option('--etcd-password-file <file>', "file holding the etcd user's password (one line)");
}

function readFlagFile(flag: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${flag} ${file}: cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function certificateFile(flag: string, file: string): Buffer {
  const pem = readFlagFile(flag, file);
  try {
    new X509Certificate(pem);
  } catch {
    throw new Error(`${flag} ${file}: not a PEM certificate`);
  }
  return pem;
}

/** The etcd client options the flags ask for; throws naming the flag (and file) that is wrong. */
export function etcdClientOf(flags: EtcdClientFlags): EtcdStoreOptions['client'] {
  const client: NonNullable<EtcdStoreOptions['client']> = {};
  if ((flags.etcdCert === undefined) !== (flags.etcdKey === undefined)) {
    throw new Error(flags.etcdCert !== undefined ? '--etcd-cert needs --etcd-key (its private key)' : '--etcd-key needs --etcd-cert (the certificate it belongs to)');
  }
  if (flags.etcdCert !== undefined && flags.etcdCa === undefined) {
    throw new Error('--etcd-cert needs --etcd-ca (the CA that signed the etcd members\' certificates): a client certificate is sent only over TLS');
  }
  if (flags.etcdCa !== undefined) {
    const tls: NonNullable<typeof client.credentials> = { rootCertificate: certificateFile('--etcd-ca', flags.etcdCa) };
    if (flags.etcdCert !== undefined && flags.etcdKey !== undefined) {
      tls.certChain = certificateFile('--etcd-cert', flags.etcdCert);
      const key = readFlagFile('--etcd-key', flags.etcdKey);
      try {
        createPrivateKey(key);
      } catch {
        // Never echo the file: it may hold a key in a form this check does not know.
        throw new Error(`--etcd-key ${flags.etcdKey}: not a PEM private key`);
      }
      tls.privateKey = key;
    }
    client.credentials = tls;
  }
  if ((flags.etcdUser === undefined) !== (flags.etcdPasswordFile === undefined)) {
    throw new Error(flags.etcdUser !== undefined ? '--etcd-user needs --etcd-password-file (the password is never taken on the command line)' : '--etcd-password-file needs --etcd-user');
  }
  if (flags.etcdUser !== undefined && flags.etcdPasswordFile !== undefined) {
    // One line; the newline an editor or `echo` adds is not part of the password.
    const password = readFlagFile('--etcd-password-file', flags.etcdPasswordFile).toString('utf8').replace(/\r?\n$/, '');
    if (password === '') throw new Error(`--etcd-password-file ${flags.etcdPasswordFile}: the file is empty`);
    if (password.includes('\n')) throw new Error(`--etcd-password-file ${flags.etcdPasswordFile}: holds more than one line; it must hold only the password`);
    client.auth = { username: flags.etcdUser, password };
  }
  return client.credentials || client.auth ? client : undefined;
}
