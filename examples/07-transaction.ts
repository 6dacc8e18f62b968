/**
 * Explicit transactions: several calls that commit together, or not at all.
 *
 * Every `tx.execute` is classified, gated and audited like `db.execute`. When the callback returns,
 * everything commits; on a failed call or a throw, everything rolls back.
 */
import { type PostgresAPI, unwrap } from '@ddl/executor'

export async function createOrders(db: PostgresAPI): Promise<void> {
  await unwrap(
    db.transaction(async (tx) => {
      await unwrap(tx.execute('CREATE TABLE orders (id uuid PRIMARY KEY)'))
      await unwrap(tx.execute('CREATE TABLE order_items (id uuid, order_id uuid REFERENCES orders)'))
      await unwrap(tx.execute('CREATE INDEX order_items_order_idx ON order_items(order_id)'))
    }),
  )
}
