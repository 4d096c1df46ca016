-- The W3C trace context (https://www.w3.org/TR/trace-context/) of the span that appended each
-- event. The relay publishes events long after (and in another process than) the append, so
-- the context travels with the event: the relay continues the trace from it and puts it into
-- the message headers (traceparent, tracestate). Null when nothing was traced.
ALTER TABLE events
    ADD COLUMN traceparent text,
    ADD COLUMN tracestate text;
