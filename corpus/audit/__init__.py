"""The audit (DESIGN.md 7): answer questions about signed snapshots from the repository itself.

Snapshots are read at their attested commits (git for reviewed files, DVC for data) and indexed
once into `.corpus-cache/audit/<manifest sha256>/` (see `corpus.audit.index`); signers are always
taken from a verified bundle, never from a field someone could edit.

Modules: `errors` (exit codes), `sources` (historic files), `index` (the cache and lookups),
`signers` (verified signer of each snapshot), `queries` (example, record, diff, annotator, model),
`proof` (Merkle inclusion proofs), `ledger` (revocations and the training-run ledger), `render`
(text output).
"""
