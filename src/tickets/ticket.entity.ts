import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Priority, Status } from '../metrics/dimensions.js';

/** A support ticket; the schema itself lives in /migrations. */
@Entity({ name: 'tickets' })
export class Ticket {
  @PrimaryColumn({ type: 'bigint' })
  organization_id: number;

  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  external_id: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: Status;

  @Column({ type: 'varchar', length: 16 })
  priority: Priority;

  @Column({ type: 'varchar', length: 64 })
  channel: string;

  @Column({ type: 'varchar', length: 64 })
  category: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  assignee_id: string | null;

  @Column({ type: 'double precision', nullable: true })
  sentiment_score: number | null;

  @Column({ type: 'timestamptz', precision: 3 })
  created_at: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  first_response_at: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  resolved_at: Date | null;

  @Column({ type: 'timestamptz', precision: 3 })
  updated_at: Date;
}
