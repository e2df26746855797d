// The layering of src/, checked by `npm run lint:architecture` (dependency-cruiser) in CI.
// Requests go routes -> services -> repositories -> db; errors, validation, schemas and config sit beneath all of
// them. server.ts, app.ts and src/cli/ are entry points that put the layers together.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'A cycle makes the order modules load in decide what is defined when, and keeps either side from being ' +
        'understood, tested or moved alone. Type-only imports count: they tie the layers just as well.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'routes-not-to-storage',
      comment:
        'Routes are thin: they validate, call a service and answer. A route that reads a repository or the ' +
        'database directly skips the transaction and the rules of the unit of work.',
      severity: 'error',
      from: { path: '^src/routes/' },
      to: { path: '^src/(repositories|db)/' },
    },
    {
      name: 'services-not-to-the-edge',
      comment:
        'Services are the units of work that the routes, the import and the command-line tools share; they know ' +
        'nothing of HTTP, of plugins or of who called them.',
      severity: 'error',
      from: { path: '^src/services/' },
      to: { path: ['^src/(routes|plugins|http|cli)/', '^src/(app|server)[.]ts$'] },
    },
    {
      name: 'repositories-not-up',
      comment:
        'Repositories hold the SQL and take a database or a transaction; the caller that owns the unit of work ' +
        'opens the transaction, so a repository never calls back into a service or anything above one.',
      severity: 'error',
      from: { path: '^src/repositories/' },
      to: { path: ['^src/(services|routes|plugins|http|cli)/', '^src/(app|server)[.]ts$'] },
    },
    {
      name: 'db-is-the-bottom',
      comment:
        'src/db opens PostgreSQL or PGlite and runs migrations, below everything else (migrations never import ' +
        'application code). It reads its settings from config.ts, which depends on no layer.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/', pathNot: ['^src/db/', '^src/config[.]ts$'] },
    },
    {
      name: 'errors-beneath-services',
      comment:
        'The error catalogue is thrown from every layer, so it may only use the wire schemas (the problem type) ' +
        'and the names of database errors that it maps.',
      severity: 'error',
      from: { path: '^src/errors/' },
      to: {
        path: '^src/',
        pathNot: ['^src/(errors|schemas)/', '^src/db/(postgres-error-codes|database-errors)[.]ts$'],
      },
    },
    {
      name: 'validation-beneath-services',
      comment: 'JSON validation serves requests, imports and data sets alike: it knows schemas and errors only.',
      severity: 'error',
      from: { path: '^src/validation/' },
      to: { path: '^src/', pathNot: '^src/(validation|errors|schemas)/' },
    },
    {
      name: 'schemas-only-schemas-and-typebox',
      comment:
        'The TypeBox schemas are the wire contract and the source of the OpenAPI document: plain data that any ' +
        'layer (and a client generator) can load, so they import other schemas and TypeBox, nothing else.',
      severity: 'error',
      from: { path: '^src/schemas/' },
      to: { pathNot: ['^src/schemas/', '^node_modules/@sinclair/typebox/'] },
    },
    {
      name: 'http-only-at-the-edge',
      comment:
        'src/http writes HTTP: problem+json, conditional requests, pagination, exports. Only what serves requests ' +
        '(plugins, routes, app.ts) uses it; services and repositories throw errors from src/errors instead.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(http|plugins|routes)/', '^src/app[.]ts$'] },
      to: { path: '^src/http/' },
    },
    {
      name: 'no-web-framework-beneath-the-edge',
      comment:
        'The layers beneath the routes run without a server too (the command-line tools, the import, the tests ' +
        'of a service), so they do not load Fastify or its plugins, not even for a type.',
      severity: 'error',
      from: { path: '^src/(services|repositories|db|errors|validation|schemas)/' },
      to: { path: '^node_modules/(fastify|fastify-plugin|find-my-way|@fastify/[^/]+)/' },
    },
    {
      name: 'plugins-not-to-routes',
      comment:
        'Plugins decorate the app and hook every request; routes are registered after them, each in its own ' +
        'encapsulated context, so a plugin knows no route.',
      severity: 'error',
      from: { path: '^src/plugins/' },
      to: { path: '^src/routes/' },
    },
    {
      name: 'routes-not-to-routes',
      comment:
        'Each route file is an encapsulated Fastify plugin; what two of them share belongs in a service or src/http.',
      severity: 'error',
      from: { path: '^src/routes/' },
      to: { path: '^src/routes/' },
    },
    {
      name: 'only-the-server-builds-the-app',
      comment:
        'Building the app registers every plugin and route. The server does; the OpenAPI writer needs the routes; ' +
        'the other command-line tools only open the database and call services.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/server[.]ts$', '^src/cli/openapi[.]ts$'] },
      to: { path: '^src/app[.]ts$' },
    },
    {
      name: 'entry-points-not-imported',
      comment: 'server.ts and the command-line tools run when loaded; importing one would start it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: ['^src/server[.]ts$', '^src/cli/'] },
    },
    {
      name: 'src-not-to-test-or-bench',
      comment:
        'The service ships without test/ and bench/ (the image copies src/ only); they use src/, not the reverse.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'src-not-to-dev-dependencies',
      comment:
        'The image installs the dependencies only (npm ci --omit=dev): a devDependency imported at run time would ' +
        'be missing in production. Type-only imports are erased by the compiler.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-not-to-undeclared-packages',
      comment: 'A package src/ imports must be in package.json, at the version pinned there, not one that came along.',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      comment:
        'An import that cannot be resolved is invisible to every rule above, so it fails too: the rules would ' +
        'otherwise pass on code they cannot see.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '^node_modules/' },
    // Type-only imports are dependencies too (see no-circular).
    tsPreCompilationDeps: true,
    // The code imports `./x.js` for `x.ts` (NodeNext); the compiler's own settings resolve it.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      // Packages such as csv-stringify and PGlite are reached through the subpaths of their `exports` field.
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
}
