-- The ledger guide's writeback query; tests/integration/test_docs_examples.py runs it on a SQLite ledger.
-- [START howto_ledger_writeback]
SELECT c.id, c.email, l.customer_id, l.outcome, l.reason, l.attempts, l.updated_at
FROM contacts AS c
LEFT JOIN bigcommerce_sync_ledger AS l
  ON l.crm_key = CAST(c.id AS VARCHAR(255))
 AND l.store_hash = 'abc123'   -- your store
 AND l.channel_id = 0          -- or the sync's channel_id
ORDER BY c.id;
-- [END howto_ledger_writeback]
