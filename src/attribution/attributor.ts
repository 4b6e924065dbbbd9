// Placeholder signatures; the implementation lands in the foundation work.
export interface Attribution {
  customer_id: string;
  service_id: string;
  service_type: string;
  brand: string;
  /** The inventory resource that matched (CIDR, range or name). */
  resource: string;
}
