"""Store layer: database (SQLAlchemy models, repository, Alembic migrations), blob store, queue.

``factory.build_store(settings)`` is the one place that picks backends from settings.
"""
