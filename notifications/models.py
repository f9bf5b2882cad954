"""The notification outbox. (The warning-operations issue builds it out.)"""
