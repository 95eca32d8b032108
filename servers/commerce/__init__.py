"""The commerce server: the store backend (products, inventory, orders, returns, customers, promotions, imports)."""
