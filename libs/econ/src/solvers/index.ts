export * from './normal-form';
export * from './pte';
export * from './backward-induction';
export * from './repeated';
export * from './risk';
export * from './discounting';
export * from './voting';
export * from './bayes-nash';
