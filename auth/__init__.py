"""Identity and access: passwords, sessions, accounts and mandates, the scope policy, the Principal."""
