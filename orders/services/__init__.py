"""Every write of the orders stage: placing and paying orders, refunds, leader review."""
