"""Alert rules and their evaluation, notification channels, and report delivery on schedules.

- `rules`: what a rule watches (threshold, change against a baseline, feed health) and where
  it notifies, validated against the metric registry;
- `evaluate`: runs a tenant's rules on a given moment, fires, deduplicates and resolves;
- `channels`: email (SMTP), Slack incoming webhooks and signed generic webhooks;
- `delivery` and `schedules`: scheduled reports rendered, mailed and logged exactly once;
- `scheduler`: the APScheduler runner the API process starts.
"""
