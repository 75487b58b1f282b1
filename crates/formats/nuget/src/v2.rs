//! The NuGet v2 (OData) feed's documents and query parsing (owned by the nugetv2 task;
//! stubbed).
