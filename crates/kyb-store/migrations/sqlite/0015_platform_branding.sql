-- A platform's brand on its customers' hosted pages (kyb_domain::branding::Branding as JSON):
-- display name, accent colour, support, privacy and terms addresses, return URL. NULL: none.
ALTER TABLE platforms ADD COLUMN branding TEXT;
