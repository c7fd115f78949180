-- Dimension table read by logclassify: which device(s) an account uses.
-- scripts/mariadb.sh applies this file to the dim_users database; it is
-- idempotent and names no database, so it can be loaded into a test schema too.
-- An account may have several rows (one per device), hence a plain index on
-- account_no and no primary key on it.
CREATE TABLE IF NOT EXISTS users (
    account_no  BIGINT      NOT NULL,   -- account number as found in the logs
    user_device VARCHAR(64) NOT NULL,   -- device label, e.g. ANDROID / IOS
    KEY (account_no)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
