import { describe, expect, it } from 'vitest';
import { planViews, type CatalogTable } from '../../src/version-schemas/plan-views.js';

const table = (name: string, columns: string[]): CatalogTable => ({ relid: '1', name, columns: columns.map((column, i) => ({ name: column, attnum: i + 1 })) });

describe('planViews: a column renamed through the views', () => {
  it('shows the column under its new name, in its place, until the table has the new name', () => {
    const [view] = planViews([table('items', ['id', 'note', 'amount'])], [{ kind: 'renameColumn', table: 'items', from: 'note', to: 'memo' }]);
    expect(view!.columns).toEqual([
      { name: 'id', source: 'id', attnum: 1 },
      { name: 'memo', source: 'note', attnum: 2 },
      { name: 'amount', source: 'amount', attnum: 3 },
    ]);
  });

  it('changes nothing once contract has renamed the column (a later migration composing it)', () => {
    const [view] = planViews([table('items', ['id', 'memo'])], [{ kind: 'renameColumn', table: 'items', from: 'note', to: 'memo' }]);
    expect(view!.columns.map((c) => `${c.name}<-${c.source}`)).toEqual(['id<-id', 'memo<-memo']);
  });

  it('composes with a type change of another column and a table rename of an earlier migration', () => {
    const [view] = planViews(
      [table('old_items', ['id', 'note', 'amount', 'tandem_0a1b2c3d_amount'])],
      [
        { kind: 'renameTable', from: 'old_items', to: 'items' },
        { kind: 'replaceColumn', table: 'items', column: 'amount', by: 'tandem_0a1b2c3d_amount' },
        { kind: 'renameColumn', table: 'items', from: 'note', to: 'memo' },
      ],
    );
    expect(view!.name).toBe('items');
    expect(view!.columns.map((c) => `${c.name}<-${c.source}`)).toEqual(['id<-id', 'memo<-note', 'amount<-tandem_0a1b2c3d_amount']);
  });
});
