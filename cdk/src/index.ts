// The CDK helpers; see README.md.
export {};
