import pytest
from django.db import connection

from servicedesk.search.index import TABLE


@pytest.fixture
def empty_index(transactional_db):
    """Transactional tests flush the tickets but not the index (no model of Django's): start
    such a test from an empty index, whatever earlier tests committed."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
