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


@register
class ClaimStructure(Rule):
    """An X12 837P claim file whose envelope or segments do not hold together.

    ## What it checks
    In an 837P file, the counts and control numbers of the envelopes agree: SE01 with the
    segments from ST to SE, SE02 with ST02, GE01 with the transactions of the group and GE02 with
    GS06, IEA01 with the groups and IEA02 with ISA13; the component separator and the segment
    terminator the segments use are the ones ISA declares (the file is read with the ones used);
    the loops a claim needs are there (2010AA billing provider NM1*85, 2010BA subscriber
    NM1*IL, the 2300 diagnosis HI with
    ABK first and ABF after it, 2400 service lines LX and SV1 each with its DTP*472 date); SBR09
    is a claim filing indicator code; a service line is an HC (CPT/HCPCS) procedure in units
    (SV103 `UN`). The finding sits on the element, or on the segment whose loop lacks one.

    ## Why a payer cares
    A clearinghouse rejects the whole interchange or transaction on an envelope error (TA1,
    999) before any claim in it is read; a line coded otherwise than HC is not a therapy line.

    ## Fails
    ```x12
    ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260406*1200*^*00501*000000001*0*P*:~
    GS*HC*SUBMITTER*RECEIVER*20260406*1200*1*X*005010X222A1~
    ST*837*0001*005010X222A1~
    BHT*0019*00*1*20260406*1200*CH~
    HL*1**20*1~
    PRV*BI*PXC*225100000X~
    NM1*85*2*LAKESIDE PHYSICAL THERAPY*****XX*1567890128~
    HL*2*1*22*0~
    SBR*P*18*******CI~
    NM1*IL*1*DOE*JANE****MI*W123456789~
    CLM*VISIT-1*120***11:B:1*Y*A*Y*Y~
    HI*ABK:M5450~
    NM1*82*1*RIVERA*ANA****XX*1234567893~
    PRV*PE*PXC*225100000X~
    LX*1~
    SV1*HC:97140:GP*120*UN*1***1~
    DTP*472*D8*20260406~
    SE*17*0001~
    GE*1*1~
    IEA*1*000000001~
    ```

    ## Passes
    ```x12
    ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260406*1200*^*00501*000000001*0*P*:~
    GS*HC*SUBMITTER*RECEIVER*20260406*1200*1*X*005010X222A1~
    ST*837*0001*005010X222A1~
    BHT*0019*00*1*20260406*1200*CH~
    HL*1**20*1~
    PRV*BI*PXC*225100000X~
    NM1*85*2*LAKESIDE PHYSICAL THERAPY*****XX*1567890128~
    HL*2*1*22*0~
    SBR*P*18*******CI~
    NM1*IL*1*DOE*JANE****MI*W123456789~
    CLM*VISIT-1*120***11:B:1*Y*A*Y*Y~
    HI*ABK:M5450~
    NM1*82*1*RIVERA*ANA****XX*1234567893~
    PRV*PE*PXC*225100000X~
    LX*1~
    SV1*HC:97140:GP*120*UN*1***1~
    DTP*472*D8*20260406~
    SE*16*0001~
    GE*1*1~
    IEA*1*000000001~
    ```

    ## Source
    ASC X12 005010X222A1 (837P TR3): the ISA fixed-width layout, SE01 "number of included
    segments", GE01/IEA01 counts and the matching control numbers; segment SV1 (SV101 composite
    with qualifier HC, SV103 unit basis UN).
    """

    code = "SCH006"
    read_by = ("x12",)
    name = "claim-structure"
    severity = Severity.ERROR
    scope = "input"


@register
class IcdNineClaim(Rule):
    """A claim (837P or FHIR) coded in ICD-9-CM.

    ## What it checks
    A claim whose diagnoses are ICD-9-CM (X12 HI qualifiers BK and BF; FHIR diagnosis codings in
    the ICD-9-CM system only), the codes of dates of service before 2015-10-01, is one finding,
    at its first ICD-9 code; its lines are not linted, as cptlint's diagnosis and coding rules
    are those of ICD-10-CM claims.

    ## Why a payer cares
    For dates of service from 2015-10-01 HIPAA requires ICD-10-CM (ABK, ABF): an ICD-9 claim is
    rejected. An older claim is out of what cptlint checks, and says so once instead of a
    cascade of findings.

    ## Fails
    ```x12
    ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260406*1200*^*00501*000000001*0*P*:~
    GS*HC*SUBMITTER*RECEIVER*20260406*1200*1*X*005010X222A1~
    ST*837*0001*005010X222A1~
    BHT*0019*00*1*20260406*1200*CH~
    HL*1**20*1~
    PRV*BI*PXC*225100000X~
    NM1*85*2*LAKESIDE PHYSICAL THERAPY*****XX*1567890128~
    HL*2*1*22*0~
    SBR*P*18*******CI~
    NM1*IL*1*DOE*JANE****MI*W123456789~
    CLM*VISIT-1*120***11:B:1*Y*A*Y*Y~
    HI*BK:7213~
    NM1*82*1*RIVERA*ANA****XX*1234567893~
    PRV*PE*PXC*225100000X~
    LX*1~
    SV1*HC:97140:GP*120*UN*1***1~
    DTP*472*D8*20050215~
    SE*16*0001~
    GE*1*1~
    IEA*1*000000001~
    ```

    ## Passes
    ```x12
    ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260406*1200*^*00501*000000001*0*P*:~
    GS*HC*SUBMITTER*RECEIVER*20260406*1200*1*X*005010X222A1~
    ST*837*0001*005010X222A1~
    BHT*0019*00*1*20260406*1200*CH~
    HL*1**20*1~
    PRV*BI*PXC*225100000X~
    NM1*85*2*LAKESIDE PHYSICAL THERAPY*****XX*1567890128~
    HL*2*1*22*0~
    SBR*P*18*******CI~
    NM1*IL*1*DOE*JANE****MI*W123456789~
    CLM*VISIT-1*120***11:B:1*Y*A*Y*Y~
    HI*ABK:M5450~
    NM1*82*1*RIVERA*ANA****XX*1234567893~
    PRV*PE*PXC*225100000X~
    LX*1~
    SV1*HC:97140:GP*120*UN*1***1~
    DTP*472*D8*20260406~
    SE*16*0001~
    GE*1*1~
    IEA*1*000000001~
    ```

    ## Source
    HHS final rule on ICD-10 code sets (45 CFR 162.1002; compliance date 2015-10-01); ASC X12
    005010X222A1 HI segment qualifiers ABK/ABF (ICD-10-CM) and BK/BF (ICD-9-CM).
    """

    code = "SCH007"
    read_by = ("x12", "fhir", "fhir-lines")
    name = "icd9-claim"
    severity = Severity.WARNING
    scope = "input"


@register
class ClaimResource(Rule):
    """A FHIR Claim or ExplanationOfBenefit whose parts cptlint reads do not hold together.

    ## What it checks
    In a FHIR R4 Claim or ExplanationOfBenefit (alone or in a Bundle), the parts cptlint reads:
    an item's `productOrService` and `modifier` are coded in CPT or HCPCS, the item has a
    `quantity`, each `diagnosisSequence` names a `diagnosis[]` with an ICD-10-CM coding and each
    `careTeamSequence` a `careTeam[]` member, lists are lists and objects objects, and the file
    is a Claim, an ExplanationOfBenefit or a Bundle of them. Extensions, adjudication and the
    rest are read past. The finding sits on the part; a line that cannot be read is not linted.

    ## Why a payer cares
    A pointer to a diagnosis that is not there leaves the line without medical necessity, and a
    code in another system (an NDC, a UCUM unit) is not a procedure a payer prices.

    ## Fails
    ```json
    {
      "resourceType": "Claim", "id": "VISIT-1", "status": "active", "use": "claim",
      "patient": {"reference": "Patient/P-1"},
      "provider": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1567890128"}},
      "careTeam": [{"sequence": 1, "provider": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}},
                    "qualification": {"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "225100000X"}]}}],
      "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M5450"}]}}],
      "item": [{"sequence": 1, "careTeamSequence": [1], "diagnosisSequence": [2],
                "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97140"}]},
                "modifier": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "GP"}]}],
                "servicedDate": "2026-04-06", "quantity": {"value": 1}}]
    }
    ```

    ## Passes
    ```json
    {
      "resourceType": "Claim", "id": "VISIT-1", "status": "active", "use": "claim",
      "patient": {"reference": "Patient/P-1"},
      "provider": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1567890128"}},
      "careTeam": [{"sequence": 1, "provider": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}},
                    "qualification": {"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "225100000X"}]}}],
      "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M5450"}]}}],
      "item": [{"sequence": 1, "careTeamSequence": [1], "diagnosisSequence": [1],
                "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97140"}]},
                "modifier": [{"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "GP"}]}],
                "servicedDate": "2026-04-06", "quantity": {"value": 1}}]
    }
    ```

    ## Source
    HL7 FHIR R4 Claim and ExplanationOfBenefit (item.diagnosisSequence, item.careTeamSequence,
    item.productOrService, item.quantity); CARIN Consumer Directed Payer Data Exchange (C4BB)
    code systems for CPT, HCPCS and ICD-10-CM.
    """

    code = "SCH008"
    read_by = ("fhir", "fhir-lines")
    name = "claim-resource"
    severity = Severity.ERROR
    scope = "input"
