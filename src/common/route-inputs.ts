import { Body, Query } from '@nestjs/common';

/** The parts of a request a handler may read besides its path. */
export type InputPart = 'query' | 'body';

/** What a handler declares of one part: the whole of it (a DTO), or only the named fields. */
export type DeclaredInput = 'whole' | readonly string[];

/**
 * Nest has no public API that says which parameter decorators a handler
 * uses. Its `@Query()` and `@Body()` record them as reflect-metadata on the
 * controller class under the method's name, `{ "<paramtype>:<index>": { data } }`;
 * the key and the paramtype numbers are exported only from
 * `@nestjs/common/internal`, which is not for applications. So they are
 * learned here from the public decorators themselves, applied once to a probe.
 * If Nest changes how it records parameters, `learn` throws when this module
 * loads and route-inputs.spec.ts fails, rather than every route quietly
 * refusing (or accepting) its input.
 */
class Probe {
  query(): void {}
  body(): void {}
}

interface Recorded {
  readonly key: string;
  readonly paramtype: string;
}

function learn(decorate: ParameterDecorator, method: keyof Probe): Recorded {
  decorate(Probe.prototype, method, 0);
  const keys = Reflect.getOwnMetadataKeys(Probe, method);
  const entries = keys.length === 1 ? Object.keys(Reflect.getOwnMetadata(keys[0], Probe, method) ?? {}) : [];
  const match = entries.length === 1 ? /^(\w+):0$/.exec(entries[0]) : null;
  if (!match) throw new Error(`@nestjs/common no longer records @${method}() as this module expects`);
  return { key: String(keys[0]), paramtype: match[1] };
}

const RECORDED: Readonly<Record<InputPart, Recorded>> = {
  query: learn(Query(), 'query'),
  body: learn(Body(), 'body'),
};

/** What `handler` of `controller` declares of the request's `part`: `[]` when it takes none of it. */
export function declaredInput(controller: Function, handler: string, part: InputPart): DeclaredInput {
  const { key, paramtype } = RECORDED[part];
  const params: Record<string, { data?: unknown }> = Reflect.getMetadata(key, controller, handler) ?? {};
  const names: string[] = [];
  for (const [slot, { data }] of Object.entries(params)) {
    if (slot.split(':')[0] !== paramtype) continue;
    if (typeof data !== 'string') return 'whole';
    names.push(data);
  }
  return names;
}
