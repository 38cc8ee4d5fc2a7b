/** The controller's leader lease, as the parts of a pass that create or delete pods need it. */
export interface Lease {
  readonly token: string;
  /** Asks Redis whether the lease still holds this controller's token. */
  stillHeld(): Promise<boolean>;
}
