"""Receivers: a published 重大变更 becomes a change notice."""
