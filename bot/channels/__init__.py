"""Channel adapters: each turns its wire format into Inbound and delivers Outbound."""
