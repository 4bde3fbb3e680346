"""Every write of the scheduling stage: negotiation (proposals and supplier capacity) and
schedules (builder, lifecycle, publishing, feedback)."""
