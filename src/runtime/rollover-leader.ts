// Time-driven CA work when replicas share a CA through etcd: one leader, chosen with etcd's
// election (a key under `<prefix>leader` held by a lease), decides when a rollover is finished;
// the others follow the result through their watch on ca/. When the leader dies its lease expires
// and the next candidate is elected.
//
// The rule the leader applies (also in README "Running several replicas"): every replica reports,
// under `<prefix>rollover/replicas/<id>` held by its own lease, which CA it issues from, which CA
// it is retiring, how many live leaves it serves from that CA, and until when leaves it no longer
// tracks (from before a restart) may still be valid. The previous CA leaves the bundle once every
// live replica reports that it follows the rollover (same previous CA), that no live leaf depends
// on it and no untracked one may still be valid — and that has held for the grace period without
// a break. A replica that dies takes its report with it when its lease expires: its proxies
// reconnect to another replica, which gives them leaves from the new CA; the grace period is
// their time to do so.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Campaign, Etcd3, Lease } from 'etcd3';
import { logger, type Logger } from '../log';
import type { TrustAuthority } from '../pki';
import { ETCD_CLEANUP_MS, settleWithin } from '../util/settle-within';

export interface RolloverLeaderOptions {
  client: Etcd3;
  prefix: string;
  authority: TrustAuthority;
  /** Finishes the rollover for every replica (SharedState.finishRollover). */
  finish: () => Promise<boolean>;
  /** How long the rule must hold before the leader finishes (the rollover grace). */
  graceMs: number;
  /** Lease of the election and of this replica's report, in seconds (default 10). */
  leaseTtlSeconds?: number;
  /** How often reports are refreshed and the leader re-checks (default 1 s). */
  checkIntervalMs?: number;
  log?: Logger;
}

/** What one replica reports about the rollover. */
interface ReplicaReport {
  currentCaId: string;
  previousCaId?: string;
  dependentLeaves: number;
  untrackedUntil?: string;
}

export class RolloverLeader {
  /** This replica's name in the election and in its report. */
  readonly replicaId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly #options: RolloverLeaderOptions;
  readonly #log: Logger;
  #lease: Lease | undefined;
  #campaign: Campaign | undefined;
  #timer: NodeJS.Timeout | undefined;
  #leader = false;
  #lastReport = '';
  /** Since when the rule has held without a break (leader only). */
  #clearSince: number | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #lastFailure: string | undefined;
  #closed = false;

  constructor(options: RolloverLeaderOptions) {
    this.#options = options;
    this.#log = options.log ?? logger('rollover-leader');
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    this.#campaignForLeader();
    const tick = (): void => {
      this.#ticking = this.#ticking.then(() => this.#tick()).then(
        () => { this.#lastFailure = undefined; },
        (err: Error) => {
          // Once per distinct failure: an etcd that stays away would otherwise log every second.
          if (err.message !== this.#lastFailure) this.#log.warn({ err: err.message }, 'CA rollover report or check failed; trying again every check');
          this.#lastFailure = err.message;
        },
      );
    };
    this.#timer = setInterval(tick, this.#options.checkIntervalMs ?? 1000);
    tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await settleWithin(this.#ticking, ETCD_CLEANUP_MS);
    // Bounded: with etcd gone, the lease simply expires.
    if (this.#campaign) await settleWithin(this.#campaign.resign(), ETCD_CLEANUP_MS);
    if (this.#lease) await settleWithin(this.#lease.revoke(), ETCD_CLEANUP_MS);
  }

  /** Set after a failed campaign, until one succeeds: the failure is logged once. */
  #campaignFailing = false;

  #campaignForLeader(): void {
    if (this.#closed) return;
    const { client, prefix } = this.#options;
    const campaign = client.election(`${prefix}leader`, this.#ttl).campaign(this.replicaId);
    this.#campaign = campaign;
    campaign.on('elected', () => {
      this.#leader = true;
      this.#campaignFailing = false;
      this.#clearSince = undefined;
      this.#log.info({ replica: this.replicaId }, 'this replica leads the time-driven CA work (finishing rollovers)');
    });
    campaign.on('error', (err: Error) => {
      // A failed campaign may go on reporting errors (its lease keeps failing while etcd is away):
      // only its first error counts, and it is abandoned, so exactly one campaign is ever alive.
      if (this.#campaign !== campaign) return;
      this.#campaign = undefined;
      this.#leader = false;
      campaign.removeAllListeners('elected');
      void settleWithin(campaign.resign(), ETCD_CLEANUP_MS);
      if (this.#closed) return;
      // Said once per outage: while etcd is away, every attempt fails the same way.
      if (!this.#campaignFailing) this.#log.warn({ err: err.message }, 'lost the leader election lease; campaigning again every second');
      this.#campaignFailing = true;
      // Not at once: with etcd unreachable every attempt fails, and a loop would spin.
      setTimeout(() => this.#campaignForLeader(), this.#options.checkIntervalMs ?? 1000).unref();
    });
  }

  get #ttl(): number {
    return this.#options.leaseTtlSeconds ?? 10;
  }

  get #reportsPrefix(): string {
    return `${this.#options.prefix}rollover/replicas/`;
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    await this.#report();
    if (this.#leader) await this.#lead();
  }

  /** Publishes this replica's report under its lease when it changed (or the lease was renewed). */
  async #report(): Promise<void> {
    const status = this.#options.authority.rolloverStatus();
    const report: ReplicaReport = { currentCaId: status.currentCaId, dependentLeaves: status.dependentLeaves };
    if (status.previousCaId) report.previousCaId = status.previousCaId;
    if (status.untrackedLeavesValidUntil) report.untrackedUntil = status.untrackedLeavesValidUntil.toISOString();
    const text = JSON.stringify(report);
    if (!this.#lease) {
      const lease = this.#options.client.lease(this.#ttl);
      lease.on('lost', () => {
        if (this.#lease === lease) this.#lease = undefined; // re-granted and re-published on the next check
      });
      this.#lease = lease;
      this.#lastReport = '';
    }
    if (text === this.#lastReport) return;
    await this.#lease.put(`${this.#reportsPrefix}${this.replicaId}`).value(text);
    this.#lastReport = text;
  }

  async #lead(): Promise<void> {
    const status = this.#options.authority.rolloverStatus();
    if (!status.inProgress) {
      this.#clearSince = undefined;
      return;
    }
    const response = await this.#options.client.getAll().prefix(this.#reportsPrefix).strings();
    const reports = Object.values(response).map((text) => JSON.parse(text) as ReplicaReport);
    const now = Date.now();
    const holding = reports.filter((report) => report.previousCaId !== status.previousCaId || report.dependentLeaves > 0
      || (report.untrackedUntil !== undefined && Date.parse(report.untrackedUntil) > now));
    if (reports.length === 0 || holding.length > 0) {
      this.#clearSince = undefined;
      return;
    }
    this.#clearSince ??= now;
    if (now - this.#clearSince < this.#options.graceMs) return;
    this.#log.info({ previousCaId: status.previousCaId, replicas: reports.length }, 'no replica serves a leaf from the previous CA: finishing the CA rollover');
    if (await this.#options.finish()) this.#clearSince = undefined;
  }
}
