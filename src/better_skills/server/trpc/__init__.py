"""The original TypeScript CLI's ``/trpc`` surface: envelopes, errors and procedures, a thin
layer over the same services ``/api/v1`` uses."""
