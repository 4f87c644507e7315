"""Local HTTP servers that follow the CRM APIs' documented shapes, for the connector tests."""
