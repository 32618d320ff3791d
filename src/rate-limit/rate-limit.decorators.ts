import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

const EXPORT_KEY = 'pulse:export';
const reflector = new Reflector();

/** Marks an export endpoint: it counts against the export limit. */
export const ExportEndpoint = () => SetMetadata(EXPORT_KEY, true);

export function isExport(context: ExecutionContext): boolean {
  return reflector.getAllAndOverride<boolean>(EXPORT_KEY, [context.getHandler(), context.getClass()]) === true;
}
