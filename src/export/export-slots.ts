import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors.js';
import { AppConfig } from '../config/app-config.js';

/** How long a refused export is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/** A raw export's place; `release` gives it back, and may be called more than once. */
export interface ExportSlot {
  release(): void;
}

/**
 * How many raw exports this instance streams at once, in all and per
 * organization. Each holds a connection of the analytics pool for as long as
 * its download lasts, so without a bound a few slow downloads (or one
 * organization) could take every connection the analytics queries need.
 * Counted in the process: the pool they protect is the instance's own.
 */
@Injectable()
export class ExportSlots {
  private running = 0;
  private readonly byOrganization = new Map<number, number>();

  constructor(private readonly config: AppConfig) {}

  /** Takes a place for a raw export of `organizationId`, or refuses with 503 (instance full) or 429 (organization). */
  acquire(organizationId: number): ExportSlot {
    const { exportConcurrency: limit, exportConcurrencyPerOrganization: perOrganization } = this.config;
    if (this.running >= limit) {
      throw new DomainError(
        'SERVICE_UNAVAILABLE',
        `this instance is streaming its most raw exports at once (${limit}); try again shortly`,
        {},
        RETRY_AFTER_SECONDS,
      );
    }
    const ofOrganization = this.byOrganization.get(organizationId) ?? 0;
    if (ofOrganization >= perOrganization) {
      throw new DomainError(
        'RATE_LIMITED',
        `at most ${perOrganization} raw exports of an organization stream at once; retry when one has finished`,
        {},
        RETRY_AFTER_SECONDS,
      );
    }
    this.running += 1;
    this.byOrganization.set(organizationId, ofOrganization + 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.running -= 1;
        const left = this.byOrganization.get(organizationId)! - 1;
        if (left === 0) this.byOrganization.delete(organizationId);
        else this.byOrganization.set(organizationId, left);
      },
    };
  }
}
