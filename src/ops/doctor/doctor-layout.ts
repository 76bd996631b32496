/**
 * The files of a data directory the doctor reads. Its caller says where they are (the CLI, from
 * src/instance's `dataLayout`, which has them all): ops does not import the wiring, which imports ops.
 */
export interface DoctorLayout {
  /** The data directory, absolute. */
  root: string;
  config: string;
  caDir: string;
  caCertificate: string;
  caKey: string;
  serverDir: string;
  serverCertificate: string;
  serverKey: string;
  secretsDir: string;
  /** The key that seals digest secrets and JWT signing keys at rest. */
  authKey: string;
  /** Written last by init: its presence means the directory is complete. */
  initialized: string;
}
