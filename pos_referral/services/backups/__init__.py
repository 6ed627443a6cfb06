"""Running the shop for years: backups, restore and safe schema upgrades."""
