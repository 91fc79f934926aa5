"""Serves moto's DynamoDB emulation on one address, one request at a time.

Two changes to moto's own `moto_server`, both about behaving like DynamoDB under load:

1. Requests are serialised. moto handles them on many threads without a lock around its
   in-memory tables, so two concurrent UpdateItem ADDs on one item can lose one. Real DynamoDB
   applies each item write atomically; one request at a time gives the same guarantee.
2. TransactWriteItems rolls back by item, not by table. moto 5.2 deep-copies the whole table once
   per item of a transaction to be able to roll back, so a 100-item transaction on a table of a
   few thousand items takes seconds and grows with the table. Here it snapshots only the items the
   transaction touches and restores those when it is cancelled.

Written against moto 5.2.5 (scripts/engines/dynamodb.sh pins it); start-up fails loudly if the
internals it relies on are gone.
"""

import argparse
import copy
import logging
import signal
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

_original_transact_write_items = DynamoDBBackend.transact_write_items
_copying_tables = threading.local()


class _CopyWithoutTables:
    """Stands in for the `copy` module inside moto.dynamodb.models: during a transaction, a table's
    "backup" is the table itself (the items it touches are backed up below instead)."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        if getattr(_copying_tables, "off", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _transact_write_items(self, transact_items):
    snapshots = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                attrs = op["Item"]
                keys = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    keys[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                keys = op["Key"]
            hash_key, range_key = self.get_keys_value(table, keys)
            current = table.get_item(hash_key, range_key)
        except Exception:
            continue  # moto reports what is wrong with this entry itself
        snapshots.append((table, hash_key, range_key, copy.deepcopy(current) if current is not None else None))

    _copying_tables.off = True
    try:
        return _original_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(snapshots):
            if range_key is not None and table.range_key_attr is not None:
                if item is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            elif item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        raise
    finally:
        _copying_tables.off = False


def _install_patches():
    if not hasattr(dynamodb_models, "copy") or not callable(getattr(DynamoDBBackend, "get_keys_value", None)):
        raise SystemExit("moto's DynamoDB internals changed: update scripts/engines/moto-dynamodb-server.py")
    dynamodb_models.copy = _CopyWithoutTables()
    DynamoDBBackend.transact_write_items = _transact_write_items


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18000)
    args = parser.parse_args()

    _install_patches()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            # Materialise the body inside the lock: the response iterable may still read the tables.
            return list(app(environ, start_response))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
