CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  status ENUM('new','paid') NOT NULL DEFAULT 'new',
  note VARCHAR(50) NULL,
  total DECIMAL(12,2) NOT NULL,
  KEY orders_user_id_idx (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
ALTER TABLE orders ADD FULLTEXT INDEX orders_note_ft (note);
