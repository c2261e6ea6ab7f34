"""Accounts: who may do what where (roles scoped to streets and communities), and the audit log of writes.

Core functions take a connection; the caller owns the transaction, so an audit row commits with its write.
"""
