import { describe, expect, it } from 'vitest'
import { cascadedObjects } from '../src/rehearsal.js'

// Catalog ids as pg_depend would show them (pg_class 1259, pg_rewrite 2618, pg_constraint 2606,
// pg_type 1247, pg_namespace 2615).
const objects = [
  { c: '1259', o: '100', s: 0, description: 'table users' },
  { c: '1259', o: '101', s: 0, description: 'index users_pkey' },
  { c: '1247', o: '102', s: 0, description: 'type users' },
  { c: '1259', o: '200', s: 0, description: 'view active_users' },
  { c: '2618', o: '201', s: 0, description: 'rule _RETURN on view active_users' },
  { c: '2606', o: '300', s: 0, description: 'constraint orders_user_id_fkey on table orders' },
  { c: '1259', o: '400', s: 0, description: 'table orders' },
]
const depends = [
  { c: '1259', o: '100', s: 0, rc: '2615', ro: '2200', rs: 0, t: 'n' },
  { c: '1259', o: '101', s: 0, rc: '1259', ro: '100', rs: 1, t: 'a' },
  { c: '1247', o: '102', s: 0, rc: '1259', ro: '100', rs: 0, t: 'i' },
  { c: '1259', o: '200', s: 0, rc: '2615', ro: '2200', rs: 0, t: 'n' },
  { c: '2618', o: '201', s: 0, rc: '1259', ro: '200', rs: 0, t: 'i' },
  { c: '2618', o: '201', s: 0, rc: '1259', ro: '100', rs: 2, t: 'n' },
  { c: '2606', o: '300', s: 0, rc: '1259', ro: '400', rs: 1, t: 'a' },
  { c: '2606', o: '300', s: 0, rc: '1259', ro: '100', rs: 1, t: 'n' },
  { c: '2606', o: '300', s: 0, rc: '1259', ro: '101', rs: 0, t: 'n' },
]

describe('cascadedObjects', () => {
  it('names what goes with a dropped table, not the table or its own parts', () => {
    const gone = [0, 1, 2, 3, 4, 5]
    expect(cascadedObjects(objects, depends, gone)).toEqual([
      'constraint orders_user_id_fkey on table orders',
      'view active_users',
    ])
  })

  it('names nothing when nothing else went', () => {
    expect(cascadedObjects(objects, depends, [0, 1, 2])).toEqual([])
    expect(cascadedObjects(objects, depends, [])).toEqual([])
  })
})
