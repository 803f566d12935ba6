"""Clean: main text, title, author, date and language of an article (HTML or scraped text)."""
