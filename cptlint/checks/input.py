"""SCH: the file itself. The reader and the schema check report these; they have no check()."""

from __future__ import annotations

from cptlint.checks.base import Rule, register
from cptlint.diagnostics import Severity


@register
class InvalidSyntax(Rule):
    """The file cannot be read as YAML or JSON.

    ## What it checks
    That the file is UTF-8 text that parses as YAML (or JSON, NDJSON), with one YAML document,
    known tags, nesting at most 64 levels deep and aliases that do not explode. The finding sits
    where the parser stopped.

    ## Why a payer cares
    A file that cannot be read is a claim nobody checked: every other rule is silent on it.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    services: [{code: "97140", units: 1
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    YAML 1.2.2 specification; RFC 8259 (JSON).
    """

    code = "SCH001"
    name = "invalid-syntax"
    severity = Severity.ERROR
    scope = "input"


@register
class DuplicateKey(Rule):
    """A key appears twice in one mapping.

    ## What it checks
    Every key of a mapping is written once. The finding sits on the second occurrence; only the
    first value is read.

    ## Why a payer cares
    Two `units:` on one line mean two claims in one: whichever a system keeps, someone bills the
    other. YAML and JSON readers disagree on which value wins.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - code: "97110"
        units: 1
        units: 2
        minutes: 15
        modifiers: [GP]
        diagnosis_pointers: [1]
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    YAML 1.2.2 §3.2.1.1 (mapping keys are unique); RFC 8259 §4.
    """

    code = "SCH002"
    name = "duplicate-key"
    severity = Severity.ERROR
    scope = "input"


@register
class SchemaViolation(Rule):
    """A field is missing, unknown, or of the wrong type or form.

    ## What it checks
    The encounter against `schemas/encounter.schema.json` (print it with `cptlint schema`): one
    finding per problem, at the value, at an unknown key, or at the parent of a missing key.
    Plain YAML values are read as written: `code: 97140` is the text "97140", `group: yes` is
    the text "yes" (not true), `units: "2"` is text, not a number.
    Billing rules do not run on an encounter with a schema problem, so fix these first.

    ## Why a payer cares
    A claim scrubber rejects a malformed line before it looks at the billing; so does cptlint.

    ## Fails
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: two, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Passes
    ```yaml
    id: ENC-1
    date: 2026-03-14
    patient: P-1
    provider: {npi: "1234567893", discipline: PT}
    diagnoses: [M54.50]
    services:
      - {code: "97110", units: 2, minutes: 30, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    cptlint encounter format (README, "The encounter format").
    """

    code = "SCH003"
    name = "schema-violation"
    severity = Severity.ERROR
    scope = "input"


@register
class NoEncounter(Rule):
    """The file holds no encounter.

    ## What it checks
    That a file is not empty (or only comments) and that an `encounters:` list is not empty.

    ## Why a payer cares
    An empty fixture passes every check while testing nothing: usually a file truncated by a
    bad merge or an export that failed.

    ## Fails
    ```yaml
    encounters: []
    ```

    ## Passes
    ```yaml
    encounters:
      - id: ENC-1
        date: 2026-03-14
        patient: P-1
        provider: {npi: "1234567893", discipline: PT}
        diagnoses: [M54.50]
        services:
          - {code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}
    ```

    ## Source
    cptlint encounter format (README, "The encounter format").
    """

    code = "SCH004"
    name = "no-encounter"
    severity = Severity.ERROR
    scope = "input"


@register
class DuplicateId(Rule):
    """Two encounters of a file have one id.

    ## What it checks
    Every encounter of a file (an `encounters:` list, the lines of an NDJSON file) has an id of
    its own; with `days-across-files`, every encounter of the files a run joins. The finding
    sits on the second occurrence.

    ## Why a payer cares
    An encounter id is the claim's key in the billing system: a second encounter under one id
    is a copied template whose id was not changed, and whichever one a system keeps, the other
    visit is billed twice or not at all.

    ## Fails
    ```yaml
    encounters:
      - {id: ENC-1, date: 2026-03-14, patient: P-1, provider: {npi: "1234567893", discipline: PT}, diagnoses: [M54.50], services: [{code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}]}
      - {id: ENC-1, date: 2026-03-15, patient: P-1, provider: {npi: "1234567893", discipline: PT}, diagnoses: [M54.50], services: [{code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}]}
    ```

    ## Passes
    ```yaml
    encounters:
      - {id: ENC-1, date: 2026-03-14, patient: P-1, provider: {npi: "1234567893", discipline: PT}, diagnoses: [M54.50], services: [{code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}]}
      - {id: ENC-2, date: 2026-03-15, patient: P-1, provider: {npi: "1234567893", discipline: PT}, diagnoses: [M54.50], services: [{code: "97110", units: 1, minutes: 15, modifiers: [GP], diagnosis_pointers: [1]}]}
    ```

    ## Source
    cptlint encounter format (README, "The encounter format"): `id` identifies one encounter.
    """

    code = "SCH005"
    name = "duplicate-id"
    severity = Severity.ERROR
    scope = "input"
