"""Demo records of school coordination (registered with pedsdesk.demo.seeders)."""
