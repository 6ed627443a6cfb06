"""Central mode: the same package on PostgreSQL, deciding what needs the whole chain.

Stores push their outbox events (``ingest``), central applies them to the same business tables,
runs the same reward release over the whole chain (caps, milestones), finds conflicts between
stores (``Reconciliation``) and feeds vouchers and revocations back down (``changes``).
"""
