# Sourced by bench/ingest-slices.sh and bench/ingest-allocation.sh: a test customer's API key, and
# the wrk script that posts one single event per request with it.

ADMIN=admin-token-0123456789abcdef

# test_customer_key PORT NAME: creates a test customer on the all-in-one at PORT, prints its API key.
test_customer_key() {
  curl -sf -X POST -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d "{\"name\":\"$2\",\"email\":\"$2@bench.test\"}" "http://127.0.0.1:$1/admin/test-customer" | node -pe 'JSON.parse(require("fs").readFileSync(0)).api_key'
}

# single_event_lua KEY FILE: writes the wrk script posting single events with API key KEY.
single_event_lua() {
  cat > "$2" <<LUA
wrk.method = "POST"
wrk.headers["authorization"] = "Bearer $1"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"payload":{"event_type":"order.created","order_id":"o-1","amount":42,"currency":"EUR"}}'
LUA
}
