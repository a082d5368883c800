-- The "another CRM" guide's HubSpot query (PostgreSQL, psycopg2's %(name)s parameters);
-- tests/integration/test_docs_examples.py runs it on a real PostgreSQL server and syncs what it returns.
-- [START howto_hubspot_sql]
SELECT c.hs_object_id AS id, c.email, c.firstname AS first_name, c.lastname AS last_name,
       c.phone, c.company, c.address AS street, c.city, c.state, c.zip, c.country,
       c.lifecyclestage AS lifecycle_stage, c.hs_object_id AS crm_id, c.newsletter_opt_in
FROM hubspot.contacts c
WHERE c.lastmodifieddate >= %(start)s::timestamp AND c.lastmodifieddate < %(end)s::timestamp
ORDER BY c.lastmodifieddate, c.hs_object_id
-- [END howto_hubspot_sql]
