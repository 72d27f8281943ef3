"""Test support: fixtures for real services (PostgreSQL, moto server) and generators."""
