import { Body, Param, Query } from '@nestjs/common';
import { declaredInput } from './route-inputs.js';

// Parameter decorators applied by hand, as compiled code applies them.
class ProbeController {
  one(_id: string) {}
  list(_query: unknown) {}
  create(_body: unknown, _query: unknown) {}
  named(_name: unknown, _dryRun: unknown) {}
}
Param('id')(ProbeController.prototype, 'one', 0);
Query()(ProbeController.prototype, 'list', 0);
Body()(ProbeController.prototype, 'create', 0);
Query()(ProbeController.prototype, 'create', 1);
Body('name')(ProbeController.prototype, 'named', 0);
Query('dry_run')(ProbeController.prototype, 'named', 1);

class InheritingController extends ProbeController {}

describe('declaredInput', () => {
  it('reads what a handler takes through the public @Query() and @Body()', () => {
    expect(declaredInput(ProbeController, 'one', 'query')).toEqual([]);
    expect(declaredInput(ProbeController, 'one', 'body')).toEqual([]);
    expect(declaredInput(ProbeController, 'list', 'query')).toBe('whole');
    expect(declaredInput(ProbeController, 'list', 'body')).toEqual([]);
    expect(declaredInput(ProbeController, 'create', 'query')).toBe('whole');
    expect(declaredInput(ProbeController, 'create', 'body')).toBe('whole');
  });

  it('names the fields of @Query("name") and @Body("name")', () => {
    expect(declaredInput(ProbeController, 'named', 'query')).toEqual(['dry_run']);
    expect(declaredInput(ProbeController, 'named', 'body')).toEqual(['name']);
  });

  it('sees the handlers a controller inherits', () => {
    expect(declaredInput(InheritingController, 'list', 'query')).toBe('whole');
  });
});
