-- Entry → exit chains: the node-to-node key an entry node presents to its exit (32 hex
-- digits), made when the entry is registered with a `via`. No user holds it; the exit
-- accepts it like a user's id that never expires. Secret: backups are encrypted.
ALTER TABLE nodes ADD COLUMN chain_key TEXT;
