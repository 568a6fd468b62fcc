"""Raw workbooks to the tidy table: file safety, reading, extraction, checks and publication. Uses core only."""
