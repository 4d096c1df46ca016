#!/bin/sh
# One-shot job in temporalio/admin-tools: the namespace mentorflow runs in and the contract's
# custom search attributes. Creates only what is missing, so it is safe on every `up`, and ends
# only when the frontend accepts a list filter on every attribute (mentorflow starts after it).
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${NAMESPACE_RETENTION:=720h}"
export TEMPORAL_ADDRESS

# The contract's custom search attributes, NAME:TYPE (kept equal to workflows/search_attributes.py
# by tests/test_docker_compose.py).
SEARCH_ATTRIBUTES="
    MentorflowCohortId:Keyword
    MentorflowMentorId:Keyword
    MentorflowMenteeId:Keyword
    MentorflowStage:Keyword
    MentorflowNextConversationDue:Datetime
    MentorflowMissedConversations:Int
"

log() { echo "temporal-namespace: $*"; }

# retry ATTEMPTS COMMAND...: run COMMAND until it succeeds, two seconds apart.
retry() {
    attempts=$1
    shift
    attempt=1
    until "$@" >/dev/null 2>&1; do
        if [ "$attempt" -ge "$attempts" ]; then
            return 1
        fi
        attempt=$((attempt + 1))
        sleep 2
    done
}

cluster_serving() {
    temporal operator cluster health | grep -q SERVING
}

namespace_ready() {
    temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE"
}

# ensure_search_attribute NAME TYPE
ensure_search_attribute() {
    if temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" | grep -qw "$1"; then
        log "search attribute $1 exists"
    else
        temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
            --name "$1" --type "$2"
        log "created search attribute $1 ($2)"
    fi
}

# filter_accepted NAME TYPE: the frontend rejects a filter on an attribute it does not know yet.
filter_accepted() {
    case "$2" in
        Int) condition=">= 0" ;;
        Datetime) condition="> '2000-01-01T00:00:00Z'" ;;
        *) condition="= 'probe'" ;;
    esac
    temporal workflow count --namespace "$TEMPORAL_NAMESPACE" --query "$1 $condition"
}

log "waiting for the frontend at $TEMPORAL_ADDRESS"
if ! retry 60 cluster_serving; then
    log "Temporal is not serving"
    exit 1
fi

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    log "namespace $TEMPORAL_NAMESPACE exists"
else
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
        --retention "$NAMESPACE_RETENTION" --description "mentorflow"
    log "created namespace $TEMPORAL_NAMESPACE (retention $NAMESPACE_RETENTION)"
fi
if ! retry 30 namespace_ready; then
    log "namespace $TEMPORAL_NAMESPACE did not become available"
    exit 1
fi

for spec in $SEARCH_ATTRIBUTES; do
    ensure_search_attribute "${spec%%:*}" "${spec#*:}"
done
for spec in $SEARCH_ATTRIBUTES; do
    if ! retry 90 filter_accepted "${spec%%:*}" "${spec#*:}"; then
        log "the frontend still rejects filters on ${spec%%:*}"
        exit 1
    fi
done
log "namespace $TEMPORAL_NAMESPACE is ready with every search attribute"
