export * from './run-activity';
