namespace Agentry.Samples.PriorAuth;

/// The sample's tables and its synthetic demo: two made-up patients (ids SYN-…, member ids EXH…,
/// names that say they are test patients) of a made-up payer, Example Health. No row describes a
/// real person. SYN-00017 has type 2 diabetes that metformin no longer controls and a new
/// prescription of semaglutide (RX-200117); SYN-00042 has rheumatoid arthritis after a failed
/// methotrexate trial and a new prescription of adalimumab (RX-200142). Both drugs need a prior
/// authorization on the plan; metformin does not.
internal static class HealthRecordsDemo
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS patients (
          patient_id TEXT PRIMARY KEY, name TEXT NOT NULL, date_of_birth TEXT NOT NULL, sex TEXT NOT NULL, member_id TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS diagnoses (
          patient_id TEXT NOT NULL REFERENCES patients (patient_id), icd10 TEXT NOT NULL, description TEXT NOT NULL, onset TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS medications (
          patient_id TEXT NOT NULL REFERENCES patients (patient_id), drug TEXT NOT NULL, started TEXT NOT NULL, stopped TEXT,
          outcome TEXT NOT NULL, note TEXT);
        CREATE TABLE IF NOT EXISTS labs (
          patient_id TEXT NOT NULL REFERENCES patients (patient_id), test TEXT NOT NULL, value TEXT NOT NULL, unit TEXT, taken_on TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS documents (
          doc_id TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (patient_id), type TEXT NOT NULL, title TEXT NOT NULL,
          written_on TEXT NOT NULL, content TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS prescriptions (
          prescription_id TEXT PRIMARY KEY, patient_id TEXT NOT NULL REFERENCES patients (patient_id), drug TEXT NOT NULL,
          generic TEXT NOT NULL, sig TEXT NOT NULL, quantity REAL NOT NULL, days_supply INTEGER NOT NULL, prescriber TEXT NOT NULL,
          npi TEXT NOT NULL, written_on TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS coverage (
          member_id TEXT PRIMARY KEY, payer TEXT NOT NULL, plan TEXT NOT NULL, status TEXT NOT NULL, effective TEXT NOT NULL, terminated TEXT);
        CREATE TABLE IF NOT EXISTS formulary (
          plan TEXT NOT NULL, generic TEXT NOT NULL, tier INTEGER NOT NULL, pa_required INTEGER NOT NULL, step_therapy TEXT,
          quantity_limit TEXT, policy TEXT, criteria_prefix TEXT, PRIMARY KEY (plan, generic));
        CREATE TABLE IF NOT EXISTS pa_submissions (
          seq INTEGER PRIMARY KEY AUTOINCREMENT, submission_id TEXT NOT NULL UNIQUE, prescription_id TEXT NOT NULL UNIQUE,
          member_id TEXT NOT NULL, drug TEXT NOT NULL, policy TEXT NOT NULL, form TEXT NOT NULL, justification TEXT NOT NULL,
          status TEXT NOT NULL, run_id TEXT NOT NULL, call_id TEXT NOT NULL, submitted_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS pa_attachments (
          submission_id TEXT NOT NULL REFERENCES pa_submissions (submission_id), doc_id TEXT NOT NULL, type TEXT NOT NULL,
          title TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (submission_id, doc_id));
        """;

    public const string Records = """
        INSERT INTO patients VALUES
          ('SYN-00017', 'Avery Testpatient', '1968-04-09', 'F', 'EXH000000017'),
          ('SYN-00042', 'Jordan Sampleton', '1979-11-23', 'M', 'EXH000000042');
        INSERT INTO diagnoses VALUES
          ('SYN-00017', 'E11.65', 'Type 2 diabetes mellitus with hyperglycemia', '2019-03-02'),
          ('SYN-00017', 'I10', 'Essential (primary) hypertension', '2017-08-14'),
          ('SYN-00017', 'E66.9', 'Obesity, unspecified', '2019-03-02'),
          ('SYN-00042', 'M05.79', 'Rheumatoid arthritis with rheumatoid factor of multiple sites without organ or systems involvement', '2024-11-18');
        INSERT INTO medications VALUES
          ('SYN-00017', 'metformin 1000 mg tablet, twice daily', '2019-03-10', NULL, 'inadequate_response', 'Adherent per pharmacy fills; HbA1c above goal on the maximum tolerated dose.'),
          ('SYN-00017', 'glipizide 5 mg tablet, daily', '2023-01-05', '2024-02-01', 'intolerance', 'Stopped after two episodes of symptomatic hypoglycemia.'),
          ('SYN-00017', 'lisinopril 10 mg tablet, daily', '2017-08-20', NULL, 'ongoing', NULL),
          ('SYN-00042', 'methotrexate 20 mg weekly, oral', '2025-01-06', '2026-06-30', 'inadequate_response', 'CDAI 24 after 24 weeks at 20 mg weekly with folic acid.'),
          ('SYN-00042', 'folic acid 1 mg daily', '2025-01-06', '2026-06-30', 'ongoing', NULL);
        INSERT INTO labs VALUES
          ('SYN-00017', 'HbA1c', '8.6', '%', '2026-06-02'),
          ('SYN-00017', 'HbA1c', '8.9', '%', '2026-11-20'),
          ('SYN-00017', 'eGFR', '78', 'mL/min/1.73m2', '2026-11-20'),
          ('SYN-00017', 'BMI', '33.1', 'kg/m2', '2026-11-24'),
          ('SYN-00042', 'QuantiFERON-TB Gold', 'negative', NULL, '2026-10-01'),
          ('SYN-00042', 'CRP', '18.4', 'mg/L', '2026-10-01'),
          ('SYN-00042', 'Hepatitis B surface antigen', 'negative', NULL, '2026-10-01');
        INSERT INTO documents VALUES
          ('DOC-0101', 'SYN-00017', 'progress_note', 'Endocrinology follow-up', '2026-11-24',
           'SYNTHETIC TEST RECORD. T2DM since 2019, on metformin 1000 mg BID for 7 years, adherent. HbA1c 8.9% (2026-11-20), up from 8.6%. Glipizide stopped 2024 for hypoglycemia. No history of pancreatitis or medullary thyroid carcinoma. Plan: start semaglutide, titrate from 0.25 mg weekly.'),
          ('DOC-0102', 'SYN-00017', 'lab_report', 'HbA1c and renal panel', '2026-11-20',
           'SYNTHETIC TEST RECORD. HbA1c 8.9 % (reference < 5.7). eGFR 78 mL/min/1.73m2.'),
          ('DOC-0103', 'SYN-00017', 'pharmacy_history', 'Dispensing history, 12 months', '2026-11-24',
           'SYNTHETIC TEST RECORD. Metformin 1000 mg #180 filled monthly 2025-12 to 2026-11, no gaps over 7 days.'),
          ('DOC-0201', 'SYN-00042', 'progress_note', 'Rheumatology follow-up', '2026-11-30',
           'SYNTHETIC TEST RECORD. Seropositive RA, 9 swollen joints, CDAI 24 despite methotrexate 20 mg weekly for 24 weeks. Plan: adalimumab-adaz 40 mg every 2 weeks.'),
          ('DOC-0202', 'SYN-00042', 'lab_report', 'TB and hepatitis B screening', '2026-10-01',
           'SYNTHETIC TEST RECORD. QuantiFERON-TB Gold negative. HBsAg negative.');
        INSERT INTO prescriptions VALUES
          ('RX-200117', 'SYN-00017', 'semaglutide 2 mg/3 mL pen (0.25 or 0.5 mg/dose)', 'semaglutide', 'Inject 0.25 mg subcutaneously weekly for 4 weeks, then 0.5 mg weekly', 3, 28, 'Dr. Sam Placeholder', '1234567893', '2026-12-05'),
          ('RX-200142', 'SYN-00042', 'adalimumab-adaz 40 mg/0.4 mL autoinjector', 'adalimumab', 'Inject 40 mg subcutaneously every 2 weeks', 2, 28, 'Dr. Riley Example', '1987654325', '2026-12-04'),
          ('RX-200150', 'SYN-00017', 'metformin 1000 mg tablet', 'metformin', 'Take 1 tablet by mouth twice daily', 180, 90, 'Dr. Sam Placeholder', '1234567893', '2026-12-05');
        INSERT INTO coverage VALUES
          ('EXH000000017', 'Example Health (synthetic payer)', 'EXH-SILVER', 'active', '2025-01-01', NULL),
          ('EXH000000042', 'Example Health (synthetic payer)', 'EXH-SILVER', 'active', '2024-01-01', NULL);
        INSERT INTO formulary VALUES
          ('EXH-SILVER', 'semaglutide', 3, 1, 'metformin for at least 90 days, unless not tolerated or contraindicated', '3 mL per 28 days', 'glp1-agonists', 'GLP1'),
          ('EXH-SILVER', 'adalimumab', 5, 1, 'methotrexate (or another conventional DMARD) for at least 12 weeks', '2 pens per 28 days', 'tnf-inhibitors', 'TNF'),
          ('EXH-SILVER', 'metformin', 1, 0, NULL, NULL, NULL, NULL);
        """;
}
