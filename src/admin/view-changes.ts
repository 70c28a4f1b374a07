// A signal that something the mesh view shows has changed: a spec applied or refused, a proxy
// connecting, leaving, ACKing or NACKing, a certificate issued, the trust bundle or a rollover
// moving. The runtime raises it from the parts that own those events; the /view/events stream
// listens, so the page is pushed a new view instead of asking for one.
export type ViewChangeReason = 'spec' | 'refused' | 'proxy' | 'certificate' | 'trust-bundle' | 'rollover';

export type ViewChangeListener = (reason: ViewChangeReason) => void;

export class ViewChanges {
  /**
   * Replaced, never mutated, when a listener comes or goes: signal() runs for every ACK of every
   * stream and iterates whatever array it finds, allocating nothing, and a listener removing
   * itself mid-iteration does not disturb it.
   */
  private listeners: readonly ViewChangeListener[] = [];

  /** Tells every listener; a listener that throws does not stop the others. */
  signal(reason: ViewChangeReason): void {
    for (const listener of this.listeners) {
      try {
        listener(reason);
      } catch {
        // A broken listener must not break the part that raised the signal (a stream, the CA).
      }
    }
  }

  /** Adds a listener; returns its removal. */
  subscribe(listener: ViewChangeListener): () => void {
    if (!this.listeners.includes(listener)) this.listeners = [...this.listeners, listener];
    return () => { this.listeners = this.listeners.filter((l) => l !== listener); };
  }
}
