package ldapmap_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/ldapmap"
)

// Descriptions as testenv's slapd (OpenLDAP 2.5, core + cosine + inetorgperson +
// nis schema, ppolicy and memberof overlays) returns them from cn=Subschema.
var (
	ocTop             = `( 2.5.6.0 NAME 'top' DESC 'top of the superclass chain' ABSTRACT MUST objectClass )`
	ocExtensible      = `( 1.3.6.1.4.1.1466.101.120.111 NAME 'extensibleObject' DESC 'RFC4512: extensible object' SUP top AUXILIARY )`
	ocPerson          = `( 2.5.6.6 NAME 'person' DESC 'RFC2256: a person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY ( userPassword $ telephoneNumber $ seeAlso $ description ) )`
	ocOrgPerson       = `( 2.5.6.7 NAME 'organizationalPerson' DESC 'RFC2256: an organizational person' SUP person STRUCTURAL MAY ( title $ x121Address $ registeredAddress $ destinationIndicator $ preferredDeliveryMethod $ telexNumber $ teletexTerminalIdentifier $ telephoneNumber $ internationaliSDNNumber $ facsimileTelephoneNumber $ street $ postOfficeBox $ postalCode $ postalAddress $ physicalDeliveryOfficeName $ ou $ st $ l ) )`
	ocInetOrgPerson   = `( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' DESC 'RFC2798: Internet Organizational Person' SUP organizationalPerson STRUCTURAL MAY ( audio $ businessCategory $ carLicense $ departmentNumber $ displayName $ employeeNumber $ employeeType $ givenName $ homePhone $ homePostalAddress $ initials $ jpegPhoto $ labeledURI $ mail $ manager $ mobile $ o $ pager $ photo $ roomNumber $ secretary $ uid $ userCertificate $ x500uniqueIdentifier $ preferredLanguage $ userSMIMECertificate $ userPKCS12 ) )`
	ocGroupOfNames    = `( 2.5.6.9 NAME 'groupOfNames' DESC 'RFC2256: a group of names (DNs)' SUP top STRUCTURAL MUST ( member $ cn ) MAY ( businessCategory $ seeAlso $ owner $ ou $ o $ description ) )`
	ocPosixGroup      = `( 1.3.6.1.1.1.2.2 NAME 'posixGroup' DESC 'Abstraction of a group of accounts' SUP top STRUCTURAL MUST ( cn $ gidNumber ) MAY ( userPassword $ memberUid $ description ) )`
	ocPosixAccount    = `( 1.3.6.1.1.1.2.0 NAME 'posixAccount' DESC 'Abstraction of an account with POSIX attributes' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ gidNumber $ homeDirectory ) MAY ( userPassword $ loginShell $ gecos $ description ) )`
	atObjectClass     = `( 2.5.4.0 NAME 'objectClass' DESC 'RFC4512: object classes of the entity' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )`
	atName            = `( 2.5.4.41 NAME 'name' DESC 'RFC4519: common supertype of name attributes' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )`
	atCN              = `( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s) for which the entity is known by' SUP name )`
	atSN              = `( 2.5.4.4 NAME ( 'sn' 'surname' ) DESC 'RFC2256: last (family) name(s) for which the entity is known by' SUP name )`
	atUID             = `( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) DESC 'RFC4519: user identifier' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )`
	atMail            = `( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) DESC 'RFC1274: RFC822 Mailbox' EQUALITY caseIgnoreIA5Match SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )`
	atMember          = `( 2.5.4.31 NAME 'member' DESC 'RFC2256: member of a group' SUP distinguishedName )`
	atGIDNumber       = `( 1.3.6.1.1.1.1.1 NAME 'gidNumber' DESC 'RFC2307: An integer uniquely identifying a group in an administrative domain' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )`
	atEntryUUID       = `( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )`
	atPwdLockedTime   = `( 1.3.6.1.4.1.42.2.27.8.1.17 NAME 'pwdAccountLockedTime' DESC 'The time an user account was locked' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE USAGE directoryOperation )`
	atMemberOf        = `( 1.2.840.113556.1.2.102 NAME 'memberOf' DESC 'Group that the entry belongs to' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 NO-USER-MODIFICATION USAGE dSAOperation X-ORIGIN 'iPlanet Delegated Administrator' )`
	atDisplayName     = `( 2.16.840.1.113730.3.1.241 NAME 'displayName' DESC 'RFC2798: preferred name to be used when displaying entries' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )`
	atDescription     = `( 2.5.4.13 NAME 'description' DESC 'RFC4519: descriptive information' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} )`
	atMemberUID       = `( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match SUBSTR caseExactIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )`
	realClasses       = []string{ocTop, ocExtensible, ocPerson, ocOrgPerson, ocInetOrgPerson, ocGroupOfNames, ocPosixGroup, ocPosixAccount}
	realAttributeDefs = []string{
		atObjectClass, atName, atCN, atSN, atUID, atMail, atMember, atGIDNumber, atEntryUUID,
		atPwdLockedTime, atMemberOf, atDisplayName, atDescription, atMemberUID,
	}
)

// Descriptions as testenv's Samba AD DC (Samba 4.17, a fresh domain
// provisioned with --use-rfc2307) returns them from
// CN=Aggregate,CN=Schema,CN=Configuration,...: objectClasses, attributeTypes and
// dITContentRules, copied verbatim (Samba publishes the rule of group twice).
var (
	samOCTop                  = `( 2.5.6.0 NAME 'top' ABSTRACT MUST (objectClass $ objectCategory $ nTSecurityDescriptor $ instanceType ) MAY (msSFU30PosixMemberOf $ msDFSR-ComputerReferenceBL $ msDFSR-MemberReferenceBL $ msDS-ObjectReferenceBL $ msDS-ReplValueMetaDataExt $ msDS-parentdistname $ msds-memberTransitive $ msds-memberOfTransitive $ msDS-TDOEgressBL $ msDS-TDOIngressBL $ msDS-ValueTypeReferenceBL $ msDS-IsPrimaryComputerFor $ msDS-ClaimSharesPossibleValuesWithBL $ msDS-MembersOfResourcePropertyListBL $ msDS-EnabledFeatureBL $ msDS-LastKnownRDN $ msDS-HostServiceAccountBL $ msDS-OIDToGroupLinkBl $ msDS-LocalEffectiveRecycleTime $ msDS-LocalEffectiveDeletionTime $ msDS-PSOApplied $ msDS-NcType $ msDS-PrincipalName $ msDS-RevealedListBL $ msDS-NC-RO-Replica-Locations-BL $ msDS-AuthenticatedToAccountlist $ msDS-IsPartialReplicaFor $ msDS-IsDomainFor $ msDS-IsFullReplicaFor $ msDS-RevealedDSAs $ msDS-KrbTgtLinkBl $ url $ wWWHomePage $ whenCreated $ whenChanged $ wellKnownObjects $ wbemPath $ uSNSource $ uSNLastObjRem $ USNIntersite $ uSNDSALastObjRemoved $ uSNCreated $ uSNChanged $ systemFlags $ subSchemaSubEntry $ subRefs $ structuralObjectClass $ siteObjectBL $ serverReferenceBL $ sDRightsEffective $ revision $ repsTo $ repsFrom $ directReports $ replUpToDateVector $ replPropertyMetaData $ name $ queryPolicyBL $ proxyAddresses $ proxiedObjectName $ possibleInferiors $ partialAttributeSet $ partialAttributeDeletionList $ otherWellKnownObjects $ objectVersion $ objectGUID $ distinguishedName $ nonSecurityMemberBL $ netbootSCPBL $ ownerBL $ msDS-ReplValueMetaData $ msDS-ReplAttributeMetaData $ msDS-NonMembersBL $ msDS-NCReplOutboundNeighbors $ msDS-NCReplInboundNeighbors $ msDS-NCReplCursors $ msDS-TasksForAzRoleBL $ msDS-TasksForAzTaskBL $ msDS-OperationsForAzRoleBL $ msDS-OperationsForAzTaskBL $ msDS-MembersForAzRoleBL $ msDs-masteredBy $ mS-DS-ConsistencyGuid $ mS-DS-ConsistencyChildCount $ msDS-Approx-Immed-Subordinates $ msCOM-PartitionSetLink $ msCOM-UserLink $ modifyTimeStamp $ masteredBy $ managedObjects $ lastKnownParent $ isPrivilegeHolder $ memberOf $ isRecycled $ isDeleted $ isCriticalSystemObject $ showInAdvancedViewOnly $ fSMORoleOwner $ fRSMemberReferenceBL $ frsComputerReferenceBL $ fromEntry $ flags $ extensionName $ dSASignature $ dSCorePropagationData $ displayNamePrintable $ displayName $ description $ createTimeStamp $ cn $ canonicalName $ bridgeheadServerListBL $ allowedChildClassesEffective $ allowedChildClasses $ allowedAttributesEffective $ allowedAttributes $ adminDisplayName $ adminDescription ) )`
	samOCPerson               = `( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST (cn ) MAY (attributeCertificateAttribute $ userPassword $ telephoneNumber $ sn $ serialNumber $ seeAlso ) )`
	samOCOrganizationalPerson = `( 2.5.6.7 NAME 'organizationalPerson' SUP person STRUCTURAL MAY (msDS-HABSeniorityIndex $ msDS-PhoneticDisplayName $ msDS-PhoneticCompanyName $ msDS-PhoneticDepartment $ msDS-PhoneticLastName $ msDS-PhoneticFirstName $ houseIdentifier $ msExchHouseIdentifier $ homePostalAddress $ msDS-AllowedToActOnBehalfOfOtherIdentity $ x121Address $ comment $ title $ co $ primaryTelexNumber $ telexNumber $ teletexTerminalIdentifier $ street $ st $ registeredAddress $ preferredDeliveryMethod $ postalCode $ postalAddress $ postOfficeBox $ thumbnailPhoto $ physicalDeliveryOfficeName $ pager $ otherPager $ otherTelephone $ mobile $ otherMobile $ primaryInternationalISDNNumber $ ipPhone $ otherIpPhone $ otherHomePhone $ homePhone $ otherFacsimileTelephoneNumber $ personalTitle $ middleName $ otherMailbox $ ou $ o $ mhsORAddress $ msDS-AllowedToDelegateTo $ manager $ thumbnailLogo $ l $ internationalISDNNumber $ initials $ givenName $ generationQualifier $ facsimileTelephoneNumber $ employeeID $ mail $ division $ destinationIndicator $ department $ c $ countryCode $ company $ assistant $ streetAddress ) )`
	samOCUser                 = `( 1.2.840.113556.1.5.9 NAME 'user' SUP organizationalPerson STRUCTURAL MAY (msDS-SourceObjectDN $ msSFU30NisDomain $ msSFU30Name $ x500uniqueIdentifier $ userSMIMECertificate $ userPKCS12 $ uid $ secretary $ roomNumber $ preferredLanguage $ photo $ labeledURI $ jpegPhoto $ homePostalAddress $ givenName $ employeeType $ employeeNumber $ displayName $ departmentNumber $ carLicense $ audio $ msDS-AuthNPolicySiloMembersBL $ msDS-AssignedAuthNPolicySilo $ msDS-AssignedAuthNPolicy $ msDS-SyncServerUrl $ msDS-PrimaryComputer $ msTSSecondaryDesktops $ msTSPrimaryDesktop $ msPKI-CredentialRoamingTokens $ msDS-ResultantPSO $ msDS-AuthenticatedAtDC $ msTSInitialProgram $ msTSWorkDirectory $ msTSDefaultToMainPrinter $ msTSConnectPrinterDrives $ msTSConnectClientDrives $ msTSBrokenConnectionAction $ msTSReconnectionAction $ msTSMaxIdleTime $ msTSMaxConnectionTime $ msTSMaxDisconnectionTime $ msTSRemoteControl $ msTSAllowLogon $ msTSHomeDrive $ msTSHomeDirectory $ msTSProfilePath $ msTSLSProperty02 $ msTSLSProperty01 $ msTSProperty02 $ msTSProperty01 $ msTSManagingLS4 $ msTSManagingLS3 $ msTSManagingLS2 $ msTSManagingLS $ msTSLicenseVersion4 $ msTSLicenseVersion3 $ msTSLicenseVersion2 $ msTSLicenseVersion $ msTSExpireDate4 $ msTSExpireDate3 $ msTSExpireDate2 $ msTSExpireDate $ msDS-FailedInteractiveLogonCountAtLastSuccessfulLogon $ msDS-FailedInteractiveLogonCount $ msDS-LastFailedInteractiveLogonTime $ msDS-LastSuccessfulInteractiveLogonTime $ msRADIUS-SavedFramedIpv6Route $ msRADIUS-FramedIpv6Route $ msRADIUS-SavedFramedIpv6Prefix $ msRADIUS-FramedIpv6Prefix $ msRADIUS-SavedFramedInterfaceId $ msRADIUS-FramedInterfaceId $ msPKIAccountCredentials $ msPKIDPAPIMasterKeys $ msPKIRoamingTimeStamp $ msDS-SupportedEncryptionTypes $ msDS-SecondaryKrbTgtNumber $ pager $ o $ mobile $ manager $ mail $ initials $ homePhone $ businessCategory $ userCertificate $ userWorkstations $ userSharedFolderOther $ userSharedFolder $ userPrincipalName $ userParameters $ userAccountControl $ unicodePwd $ terminalServer $ servicePrincipalName $ scriptPath $ pwdLastSet $ profilePath $ primaryGroupID $ preferredOU $ otherLoginWorkstations $ operatorCount $ ntPwdHistory $ networkAddress $ msRASSavedFramedRoute $ msRASSavedFramedIPAddress $ msRASSavedCallbackNumber $ msRADIUSServiceType $ msRADIUSFramedRoute $ msRADIUSFramedIPAddress $ msRADIUSCallbackNumber $ msNPSavedCallingStationID $ msNPCallingStationID $ msNPAllowDialin $ mSMQSignCertificatesMig $ mSMQSignCertificates $ mSMQDigestsMig $ mSMQDigests $ msIIS-FTPRoot $ msIIS-FTPDir $ msDS-UserPasswordExpiryTimeComputed $ msDS-User-Account-Control-Computed $ msDS-Site-Affinity $ mS-DS-CreatorSID $ msDS-Cached-Membership-Time-Stamp $ msDS-Cached-Membership $ msDRM-IdentityCertificate $ msCOM-UserPartitionSetLink $ maxStorage $ logonWorkstation $ logonHours $ logonCount $ lockoutTime $ localeID $ lmPwdHistory $ lastLogonTimestamp $ lastLogon $ lastLogoff $ homeDrive $ homeDirectory $ groupsToIgnore $ groupPriority $ groupMembershipSAM $ dynamicLDAPServer $ desktopProfile $ defaultClassStore $ dBCSPwd $ controlAccessRights $ codePage $ badPwdCount $ badPasswordTime $ adminCount $ aCSPolicyName $ accountExpires ) )`
	samOCGroup                = `( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL MUST (groupType ) MAY (msSFU30PosixMember $ msSFU30NisDomain $ msSFU30Name $ msDS-PrimaryComputer $ msDS-AzApplicationData $ msDS-AzLastImportedBizRulePath $ msDS-AzBizRuleLanguage $ msDS-AzBizRule $ msDS-AzObjectGuid $ msDS-AzGenericData $ primaryGroupToken $ operatorCount $ nTGroupMembers $ nonSecurityMember $ msDS-NonMembers $ msDS-AzLDAPQuery $ member $ managedBy $ groupMembershipSAM $ groupAttributes $ mail $ desktopProfile $ controlAccessRights $ adminCount ) )`
	samOCSecurityPrincipal    = `( 1.2.840.113556.1.5.6 NAME 'securityPrincipal' SUP top AUXILIARY MUST (sAMAccountName $ objectSid ) MAY (supplementalCredentials $ sIDHistory $ securityIdentifier $ sAMAccountType $ rid $ tokenGroupsNoGCAcceptable $ tokenGroupsGlobalAndUniversal $ tokenGroups $ nTSecurityDescriptor $ msDS-KeyVersionNumber $ altSecurityIdentities $ accountNameHistory ) )`
	samOCMailRecipient        = `( 1.2.840.113556.1.3.46 NAME 'mailRecipient' SUP top AUXILIARY MUST (cn ) MAY (msDS-GeoCoordinatesLongitude $ msDS-GeoCoordinatesLatitude $ msDS-GeoCoordinatesAltitude $ msDS-PhoneticDisplayName $ userSMIMECertificate $ secretary $ msExchLabeledURI $ msExchAssistantName $ labeledURI $ userCertificate $ userCert $ textEncodedORAddress $ telephoneNumber $ showInAddressBook $ legacyExchangeDN $ garbageCollPeriod $ info ) )`
	samOCPosixAccount         = `( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY MAY (description $ gecos $ loginShell $ unixUserPassword $ userPassword $ homeDirectory $ unixHomeDirectory $ gidNumber $ uidNumber $ cn $ uid ) )`
	samOCComputer             = `( 1.2.840.113556.1.3.30 NAME 'computer' SUP user STRUCTURAL MAY (msSFU30Name $ nisMapName $ msSFU30NisDomain $ msSFU30Aliases $ msImaging-HashAlgorithm $ msImaging-ThumbprintHash $ msDS-GenerationId $ msTPM-TpmInformationForComputer $ msTSSecondaryDesktopBL $ msTSPrimaryDesktopBL $ msTSEndpointPlugin $ msTSEndpointType $ msTSEndpointData $ msDS-HostServiceAccount $ msDS-IsUserCachableAtRodc $ msTSProperty02 $ msTSProperty01 $ msTPM-OwnerInformation $ msDS-RevealOnDemandGroup $ msDS-NeverRevealGroup $ msDS-PromotionSettings $ msDS-SiteName $ msDS-isRODC $ msDS-isGC $ msDS-AuthenticatedAtDC $ msDS-ExecuteScriptPassword $ msDS-RevealedList $ msDS-RevealedUsers $ msDS-KrbTgtLink $ volumeCount $ siteGUID $ rIDSetReferences $ policyReplicationFlags $ physicalLocationObject $ operatingSystemVersion $ operatingSystemServicePack $ operatingSystemHotfix $ operatingSystem $ networkAddress $ netbootSIFFile $ netbootMirrorDataFile $ netbootMachineFilePath $ netbootInitialization $ netbootDUID $ netbootGUID $ msDS-AdditionalSamAccountName $ msDS-AdditionalDnsHostName $ managedBy $ machineRole $ location $ localPolicyFlags $ dNSHostName $ defaultLocalPolicyObject $ cn $ catalogs ) )`
	samATObjectClass          = `( 2.5.4.0 NAME 'objectClass' SYNTAX '1.3.6.1.4.1.1466.115.121.1.38' NO-USER-MODIFICATION )`
	samATObjectCategory       = `( 1.2.840.113556.1.4.782 NAME 'objectCategory' SYNTAX '1.3.6.1.4.1.1466.115.121.1.12' SINGLE-VALUE )`
	samATNTSecurityDescriptor = `( 1.2.840.113556.1.2.281 NAME 'nTSecurityDescriptor' SYNTAX '1.2.840.113556.1.4.907' SINGLE-VALUE )`
	samATInstanceType         = `( 1.2.840.113556.1.2.1 NAME 'instanceType' SYNTAX '1.3.6.1.4.1.1466.115.121.1.27' SINGLE-VALUE NO-USER-MODIFICATION )`
	samATObjectSid            = `( 1.2.840.113556.1.4.146 NAME 'objectSid' SYNTAX '1.3.6.1.4.1.1466.115.121.1.40' SINGLE-VALUE NO-USER-MODIFICATION )`
	samATSAMAccountName       = `( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )`
	samATCn                   = `( 2.5.4.3 NAME 'cn' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )`
	samATSn                   = `( 2.5.4.4 NAME 'sn' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )`
	samATGroupType            = `( 1.2.840.113556.1.4.750 NAME 'groupType' SYNTAX '1.3.6.1.4.1.1466.115.121.1.27' SINGLE-VALUE )`
	samATMember               = `( 2.5.4.31 NAME 'member' SYNTAX '1.3.6.1.4.1.1466.115.121.1.12' )`
	samATMail                 = `( 0.9.2342.19200300.100.1.3 NAME 'mail' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )`
	samATUserPrincipalName    = `( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' SINGLE-VALUE )`
	samATGidNumber            = `( 1.3.6.1.1.1.1.1 NAME 'gidNumber' SYNTAX '1.3.6.1.4.1.1466.115.121.1.27' SINGLE-VALUE )`
	samATUnicodePwd           = `( 1.2.840.113556.1.4.90 NAME 'unicodePwd' SYNTAX '1.3.6.1.4.1.1466.115.121.1.40' SINGLE-VALUE )`
	samATObjectGUID           = `( 1.2.840.113556.1.4.2 NAME 'objectGUID' SYNTAX '1.3.6.1.4.1.1466.115.121.1.40' SINGLE-VALUE NO-USER-MODIFICATION )`
	samATDescription          = `( 2.5.4.13 NAME 'description' SYNTAX '1.3.6.1.4.1.1466.115.121.1.15' )`
	samRuleUser               = `( 1.2.840.113556.1.5.9 NAME 'user' AUX ( msDS-CloudExtensions $ securityPrincipal $ mailRecipient $ shadowAccount $ posixAccount ) MUST (sAMAccountName $ objectSid $ cn ) MAY (msDS-cloudExtensionAttribute20 $ msDS-cloudExtensionAttribute19 $ msDS-cloudExtensionAttribute18 $ msDS-cloudExtensionAttribute17 $ msDS-cloudExtensionAttribute16 $ msDS-cloudExtensionAttribute15 $ msDS-cloudExtensionAttribute14 $ msDS-cloudExtensionAttribute13 $ msDS-cloudExtensionAttribute12 $ msDS-cloudExtensionAttribute11 $ msDS-cloudExtensionAttribute10 $ msDS-cloudExtensionAttribute9 $ msDS-cloudExtensionAttribute8 $ msDS-cloudExtensionAttribute7 $ msDS-cloudExtensionAttribute6 $ msDS-cloudExtensionAttribute5 $ msDS-cloudExtensionAttribute4 $ msDS-cloudExtensionAttribute3 $ msDS-cloudExtensionAttribute2 $ msDS-cloudExtensionAttribute1 $ supplementalCredentials $ sIDHistory $ securityIdentifier $ sAMAccountType $ rid $ tokenGroupsNoGCAcceptable $ tokenGroupsGlobalAndUniversal $ tokenGroups $ nTSecurityDescriptor $ msDS-KeyVersionNumber $ altSecurityIdentities $ accountNameHistory $ msDS-GeoCoordinatesLongitude $ msDS-GeoCoordinatesLatitude $ msDS-GeoCoordinatesAltitude $ msDS-PhoneticDisplayName $ userSMIMECertificate $ secretary $ msExchLabeledURI $ msExchAssistantName $ labeledURI $ userCertificate $ userCert $ textEncodedORAddress $ telephoneNumber $ showInAddressBook $ legacyExchangeDN $ garbageCollPeriod $ info $ shadowFlag $ shadowExpire $ shadowInactive $ shadowWarning $ shadowMax $ shadowMin $ shadowLastChange $ description $ userPassword $ uid $ description $ gecos $ loginShell $ unixUserPassword $ userPassword $ homeDirectory $ unixHomeDirectory $ gidNumber $ uidNumber $ cn $ uid ) )`
	samRuleGroup              = `( 1.2.840.113556.1.5.8 NAME 'group' AUX ( mailRecipient $ securityPrincipal $ posixGroup ) MUST (cn $ sAMAccountName $ objectSid ) MAY (msDS-GeoCoordinatesLongitude $ msDS-GeoCoordinatesLatitude $ msDS-GeoCoordinatesAltitude $ msDS-PhoneticDisplayName $ userSMIMECertificate $ secretary $ msExchLabeledURI $ msExchAssistantName $ labeledURI $ userCertificate $ userCert $ textEncodedORAddress $ telephoneNumber $ showInAddressBook $ legacyExchangeDN $ garbageCollPeriod $ info $ supplementalCredentials $ sIDHistory $ securityIdentifier $ sAMAccountType $ rid $ tokenGroupsNoGCAcceptable $ tokenGroupsGlobalAndUniversal $ tokenGroups $ nTSecurityDescriptor $ msDS-KeyVersionNumber $ altSecurityIdentities $ accountNameHistory $ memberUid $ gidNumber $ description $ unixUserPassword $ userPassword $ cn ) )`
	samRuleComputer           = `( 1.2.840.113556.1.3.30 NAME 'computer' AUX ( ipHost ) MAY (manager $ l $ uid $ ipHostNumber $ description $ cn ) )`
)

// sambaSchema is the part of Samba's subschema that users and groups touch.
func sambaSchema(t testing.TB) *ldapmap.Schema {
	t.Helper()
	s, err := ldapmap.NewSchema(
		[]string{
			samATObjectClass, samATObjectCategory, samATNTSecurityDescriptor, samATInstanceType, samATObjectSid,
			samATSAMAccountName, samATCn, samATSn, samATGroupType, samATMember, samATMail, samATUserPrincipalName,
			samATGidNumber, samATUnicodePwd, samATObjectGUID, samATDescription,
		},
		[]string{
			samOCTop, samOCPerson, samOCOrganizationalPerson, samOCUser, samOCGroup, samOCSecurityPrincipal,
			samOCMailRecipient, samOCPosixAccount, samOCComputer,
		},
		[]string{samRuleUser, samRuleGroup, samRuleGroup, samRuleComputer})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseObjectClass(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ldapmap.ObjectClass
	}{
		{ocTop, ldapmap.ObjectClass{OID: "2.5.6.0", Names: []string{"top"}, Kind: ldapmap.Abstract, Must: []string{"objectClass"}}},
		{ocExtensible, ldapmap.ObjectClass{
			OID: "1.3.6.1.4.1.1466.101.120.111", Names: []string{"extensibleObject"},
			Sup: []string{"top"}, Kind: ldapmap.Auxiliary,
		}},
		{ocPerson, ldapmap.ObjectClass{
			OID: "2.5.6.6", Names: []string{"person"}, Sup: []string{"top"},
			Must: []string{"sn", "cn"}, May: []string{"userPassword", "telephoneNumber", "seeAlso", "description"},
		}},
		{ocGroupOfNames, ldapmap.ObjectClass{
			OID: "2.5.6.9", Names: []string{"groupOfNames"}, Sup: []string{"top"},
			Must: []string{"member", "cn"}, May: []string{"businessCategory", "seeAlso", "owner", "ou", "o", "description"},
		}},
		{ocPosixGroup, ldapmap.ObjectClass{
			OID: "1.3.6.1.1.1.2.2", Names: []string{"posixGroup"}, Sup: []string{"top"},
			Must: []string{"cn", "gidNumber"}, May: []string{"userPassword", "memberUid", "description"},
		}},
		// Shapes seen elsewhere: no blanks inside parentheses (Active
		// Directory), several SUPs, no NAME, a quoted OID, lower-case keywords.
		{`(1.2.3 NAME 'x' SUP (top$person) AUXILIARY MUST (cn$sn))`, ldapmap.ObjectClass{
			OID: "1.2.3", Names: []string{"x"},
			Sup: []string{"top", "person"}, Kind: ldapmap.Auxiliary, Must: []string{"cn", "sn"},
		}},
		{`( 1.2.4 )`, ldapmap.ObjectClass{OID: "1.2.4"}},
		{`( '1.2.5' name 'y' may description x-origin ( 'a' 'b' ) )`, ldapmap.ObjectClass{
			OID: "1.2.5", Names: []string{"y"},
			May: []string{"description"},
		}},
	} {
		got, err := ldapmap.ParseObjectClass(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
	inet, err := ldapmap.ParseObjectClass(ocInetOrgPerson)
	if err != nil || inet.Name() != "inetOrgPerson" || inet.Sup[0] != "organizationalPerson" || len(inet.May) != 27 ||
		inet.May[13] != "mail" || inet.Kind != ldapmap.Structural {
		t.Errorf("inetOrgPerson: %+v, %v", inet, err)
	}
}

func TestParseAttributeType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ldapmap.AttributeType
	}{
		{atUID, ldapmap.AttributeType{
			OID: "0.9.2342.19200300.100.1.1", Names: []string{"uid", "userid"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.15",
		}},
		{atMail, ldapmap.AttributeType{
			OID: "0.9.2342.19200300.100.1.3", Names: []string{"mail", "rfc822Mailbox"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.26",
		}},
		{atCN, ldapmap.AttributeType{OID: "2.5.4.3", Names: []string{"cn", "commonName"}, Sup: "name"}},
		{atEntryUUID, ldapmap.AttributeType{
			OID: "1.3.6.1.1.16.4", Names: []string{"entryUUID"}, Syntax: "1.3.6.1.1.16.1",
			SingleValue: true, NoUserModification: true, Usage: "directoryOperation",
		}},
		{atPwdLockedTime, ldapmap.AttributeType{
			OID: "1.3.6.1.4.1.42.2.27.8.1.17", Names: []string{"pwdAccountLockedTime"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.24", SingleValue: true, Usage: "directoryOperation",
		}},
		{atMemberOf, ldapmap.AttributeType{
			OID: "1.2.840.113556.1.2.102", Names: []string{"memberOf"},
			Syntax: "1.3.6.1.4.1.1466.115.121.1.12", NoUserModification: true, Usage: "dSAOperation",
		}},
		{`( 1.2.6 NAME 'q' DESC 'it\27s a back\5Cslash' )`, ldapmap.AttributeType{OID: "1.2.6", Names: []string{"q"}}},
	} {
		got, err := ldapmap.ParseAttributeType(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
	uuid, _ := ldapmap.ParseAttributeType(atEntryUUID)
	mail, _ := ldapmap.ParseAttributeType(atMail)
	if !uuid.Operational() || mail.Operational() {
		t.Error("Operational: entryUUID is, mail is not")
	}
}

func TestParseDescriptionErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`1.2.3 NAME 'x'`,
		`( )`,
		`( 1.2.3 NAME 'x'`,
		`( 1.2.3 NAME 'x )`,
		`( 1.2.3 NAME )`,
		`( 1.2.3 NAME 'x' NAME 'y' )`,
		`( 1.2.3 MUST ( cn $ ( sn ) ) )`,
		`( 1.2.3 MUST ( cn $ sn )`,
		`( 1.2.3 'x' )`,
		`( 1.2.3 NAME '1abc' )`,
		`( 1.2.3 NAME 'a b' )`,
		`( 1.2.3 MAY ( cn $ 'bad name' ) )`,
		`( 1.2.3 STRUCTURAL AUXILIARY )`,
		`( 01.2 NAME 'x' )`,
		`( 1..2 NAME 'x' )`,
		`( 1.2.3 NAME 'x' ) trailing`,
		`( 1.2.3 MUST $ )`,
	} {
		if oc, err := ldapmap.ParseObjectClass(in); err == nil {
			t.Errorf("ParseObjectClass(%q) = %+v, want an error", in, oc)
		}
	}
	if at, err := ldapmap.ParseAttributeType(`( 1.2.3 NAME 'x' SUP ( a $ b ) )`); err == nil {
		t.Errorf("two SUPs of an attribute type: %+v", at)
	}
}

func realSchema(t testing.TB) *ldapmap.Schema {
	t.Helper()
	s, err := ldapmap.NewSchema(realAttributeDefs, realClasses, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaLookups(t *testing.T) {
	s := realSchema(t)
	for _, name := range []string{"cn", "CN", "commonName", "2.5.4.3", "cn;lang-de"} {
		if at := s.Attribute(name); at == nil || at.OID != "2.5.4.3" {
			t.Errorf("Attribute(%q) = %+v", name, at)
		}
	}
	if s.Attribute("mial") != nil || s.Class("inetOrgPersn") != nil {
		t.Error("typos found")
	}
	if oc := s.Class("INETORGPERSON"); oc == nil || oc.Name() != "inetOrgPerson" {
		t.Errorf("Class: %+v", oc)
	}
	if got := s.SuggestAttribute("mial"); got != `; did you mean "mail"?` {
		t.Errorf("SuggestAttribute(mial) = %q", got)
	}
	if got := s.SuggestClass("inetOrgPersn"); got != `; did you mean "inetOrgPerson"?` {
		t.Errorf("SuggestClass = %q", got)
	}
	if got := s.SuggestAttribute("somethingElse"); got != "" {
		t.Errorf("far-off name got suggestion %q", got)
	}
	// A broken description is skipped and reported; the rest is usable.
	s2, err := ldapmap.NewSchema([]string{atMail, "( broken"}, []string{ocTop, "garbage"}, []string{"( 1.2.3 AUX ( a $ 'b c' ) )"})
	if err == nil || s2.Attribute("mail") == nil || s2.Class("top") == nil {
		t.Errorf("NewSchema with broken values: %v", err)
	}
}

func TestSchemaAllowsAndRequires(t *testing.T) {
	s := realSchema(t)
	classes := func(names ...string) []*ldapmap.ObjectClass {
		var out []*ldapmap.ObjectClass
		for _, n := range names {
			out = append(out, s.Class(n))
		}
		return out
	}
	users := classes("top", "person", "organizationalPerson", "inetOrgPerson")
	for _, tc := range []struct {
		classes []*ldapmap.ObjectClass
		attr    string
		want    bool
	}{
		{users, "mail", true},
		{users, "sn", true},
		{users, "surname", true},
		{users, "gidNumber", false},
		{classes("person"), "mail", false},
		{classes("inetOrgPerson"), "description", true}, // MAY of person, through the SUP chain
		{classes("inetOrgPerson", "extensibleObject"), "gidNumber", true},
		{classes("posixGroup"), "gidNumber", true},
		{classes("groupOfNames"), "memberUid", false},
	} {
		if got := s.Allows(tc.classes, s.Attribute(tc.attr)); got != tc.want {
			t.Errorf("Allows(%v, %s) = %v", len(tc.classes), tc.attr, got)
		}
	}
	if got := s.AllowedBy(s.Attribute("gidNumber")); !reflect.DeepEqual(got, []string{"posixAccount", "posixGroup"}) {
		t.Errorf("AllowedBy(gidNumber) = %v", got)
	}
	req := func(cs []*ldapmap.ObjectClass) string {
		var out []string
		for _, r := range s.Requires(cs) {
			out = append(out, r.Attr+"<"+r.Class)
		}
		return strings.Join(out, " ")
	}
	if got := req(users); got != "sn<person cn<person" {
		t.Errorf("Requires(users) = %s", got)
	}
	if got := req(classes("inetOrgPerson", "posixAccount")); got != "sn<person cn<person uid<posixAccount uidNumber<posixAccount gidNumber<posixAccount homeDirectory<posixAccount" {
		t.Errorf("Requires(inetOrgPerson, posixAccount) = %s", got)
	}
	if got := req(classes("groupOfNames")); got != "member<groupOfNames cn<groupOfNames" {
		t.Errorf("Requires(groupOfNames) = %s", got)
	}
	// A SUP cycle (a broken schema) must not hang the walk.
	loop, _ := ldapmap.NewSchema(nil, []string{`( 1.1 NAME 'a' SUP b MUST cn )`, `( 1.2 NAME 'b' SUP a MUST sn )`}, nil)
	if got := len(loop.Requires([]*ldapmap.ObjectClass{loop.Class("a")})); got != 2 {
		t.Errorf("cycle: %d required", got)
	}
}

// FuzzParseSchemaDescription: no input panics the parsers, and what they
// accept survives a round trip through its RFC 4512 form.
func FuzzParseSchemaDescription(f *testing.F) {
	for _, s := range append(append([]string{}, realClasses...), realAttributeDefs...) {
		f.Add(s)
	}
	f.Add(`(1.2.3 NAME 'x' SUP (top$person) AUXILIARY MUST (cn$sn))`)
	f.Add(`( 1.2.6 NAME 'q' DESC 'it\27s' SYNTAX '1.2{3' USAGE 'a\5Cb' )`)
	// Samba's shapes: MUST (cn ) with no blank after the parenthesis,
	// quoted SYNTAX, AUX lists, and its extendedAttributeInfo extensions.
	for _, s := range []string{
		samOCTop, samOCUser, samOCSecurityPrincipal, samATInstanceType, samATObjectSid,
		samATSAMAccountName, samRuleUser, samRuleGroup, samRuleComputer,
		`( 1.2.840.113556.1.2.1 NAME 'instanceType' PROPERTY-GUID '8C7996BFE60DD011A28500AA003049E2' PROPERTY-SET-GUID '00000000000000000000000000000000' SYSTEM-ONLY )`,
		`( 2.5.6.6 NAME 'r' DESC 'd' OBSOLETE AUX ( a $ b ) MUST uid MAY ( mail ) NOT ( cn $ sn ) X-ORIGIN 'test' )`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if oc, err := ldapmap.ParseObjectClass(s); err == nil {
			again, err := ldapmap.ParseObjectClass(renderClass(oc))
			if err != nil || !reflect.DeepEqual(normClass(*oc), normClass(*again)) {
				t.Fatalf("%q → %q → %+v, %v; want %+v", s, renderClass(oc), again, err, oc)
			}
		}
		if at, err := ldapmap.ParseAttributeType(s); err == nil {
			again, err := ldapmap.ParseAttributeType(renderAttr(at))
			if err != nil || !reflect.DeepEqual(normAttr(*at), normAttr(*again)) {
				t.Fatalf("%q → %q → %+v, %v; want %+v", s, renderAttr(at), again, err, at)
			}
		}
		if r, err := ldapmap.ParseContentRule(s); err == nil {
			again, err := ldapmap.ParseContentRule(renderRule(r))
			if err != nil || !reflect.DeepEqual(normRule(*r), normRule(*again)) {
				t.Fatalf("%q → %q → %+v, %v; want %+v", s, renderRule(r), again, err, r)
			}
		}
		schema, _ := ldapmap.NewSchema([]string{s}, []string{s}, []string{s})
		// The walks over classes and rules must not panic or hang on
		// whatever got in, including a rule whose OID is its own class's.
		for _, oc := range []*ldapmap.ObjectClass{schema.Class("x"), nil} {
			classes := []*ldapmap.ObjectClass{oc}
			if oc, err := ldapmap.ParseObjectClass(s); err == nil {
				classes = append(classes, schema.Class(oc.OID))
			}
			for _, at := range []*ldapmap.AttributeType{schema.Attribute("cn"), nil} {
				_ = schema.Allows(classes, at)
				_ = schema.PrecludedBy(classes, at)
			}
			_ = schema.Requires(classes)
		}
	})
}

func renderClass(oc *ldapmap.ObjectClass) string {
	var b strings.Builder
	b.WriteString("( " + oc.OID)
	names(&b, oc.Names)
	oids(&b, "SUP", oc.Sup)
	b.WriteString([]string{" STRUCTURAL", " AUXILIARY", " ABSTRACT"}[oc.Kind])
	oids(&b, "MUST", oc.Must)
	oids(&b, "MAY", oc.May)
	b.WriteString(" )")
	return b.String()
}

func renderAttr(at *ldapmap.AttributeType) string {
	var b strings.Builder
	b.WriteString("( " + at.OID)
	names(&b, at.Names)
	if at.Sup != "" {
		b.WriteString(" SUP " + at.Sup)
	}
	b.WriteString(" SYNTAX " + quote(at.Syntax))
	if at.SingleValue {
		b.WriteString(" SINGLE-VALUE")
	}
	if at.NoUserModification {
		b.WriteString(" NO-USER-MODIFICATION")
	}
	b.WriteString(" USAGE " + quote(at.Usage) + " )")
	return b.String()
}

func renderRule(r *ldapmap.ContentRule) string {
	var b strings.Builder
	b.WriteString("( " + r.OID)
	names(&b, r.Names)
	oids(&b, "AUX", r.Aux)
	oids(&b, "MUST", r.Must)
	oids(&b, "MAY", r.May)
	oids(&b, "NOT", r.Not)
	b.WriteString(" )")
	return b.String()
}

func normRule(r ldapmap.ContentRule) ldapmap.ContentRule {
	for _, l := range []*[]string{&r.Names, &r.Aux, &r.Must, &r.May, &r.Not} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return r
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\5C`, `'`, `\27`).Replace(s) + "'"
}

func names(b *strings.Builder, list []string) {
	if len(list) > 0 {
		b.WriteString(" NAME ( '" + strings.Join(list, "' '") + "' )")
	}
}

func oids(b *strings.Builder, kw string, list []string) {
	if len(list) > 0 {
		b.WriteString(" " + kw + " ( " + strings.Join(list, " $ ") + " )")
	}
}

func normClass(oc ldapmap.ObjectClass) ldapmap.ObjectClass {
	for _, l := range []*[]string{&oc.Names, &oc.Sup, &oc.Must, &oc.May} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return oc
}

func normAttr(at ldapmap.AttributeType) ldapmap.AttributeType {
	if len(at.Names) == 0 {
		at.Names = nil
	}
	return at
}

func TestParseContentRule(t *testing.T) {
	user, err := ldapmap.ParseContentRule(samRuleUser)
	if err != nil {
		t.Fatal(err)
	}
	if user.OID != "1.2.840.113556.1.5.9" || user.Name() != "user" ||
		!reflect.DeepEqual(user.Aux, []string{"msDS-CloudExtensions", "securityPrincipal", "mailRecipient", "shadowAccount", "posixAccount"}) ||
		!reflect.DeepEqual(user.Must, []string{"sAMAccountName", "objectSid", "cn"}) || len(user.Not) != 0 {
		t.Errorf("Samba's rule for user: %+v", user)
	}
	for _, tc := range []struct {
		in   string
		want ldapmap.ContentRule
	}{
		// RFC 4512 §4.1.6 in full: DESC, OBSOLETE, NOT and an extension.
		{
			`( 2.5.6.6 NAME 'personRule' DESC 'no phones' OBSOLETE AUX ( posixAccount $ shadowAccount ) MUST uid MAY ( mail ) NOT telephoneNumber X-ORIGIN 'test' )`,
			ldapmap.ContentRule{
				OID: "2.5.6.6", Names: []string{"personRule"}, Aux: []string{"posixAccount", "shadowAccount"},
				Must: []string{"uid"}, May: []string{"mail"}, Not: []string{"telephoneNumber"},
			},
		},
		{`(1.2.3 NAME ('a' 'b') AUX x)`, ldapmap.ContentRule{OID: "1.2.3", Names: []string{"a", "b"}, Aux: []string{"x"}}},
		{`( 1.2.4 )`, ldapmap.ContentRule{OID: "1.2.4"}},
	} {
		got, err := ldapmap.ParseContentRule(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(normRule(*got), normRule(tc.want)) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, *got, tc.want)
		}
	}
	for _, in := range []string{`( 1.2.3 AUX ( a $ 'b c' ) )`, `( 1.2.3 NOT )`, `( 1.2.3 MUST ( cn $ ( sn ) ) )`, `( x y )`} {
		if r, err := ldapmap.ParseContentRule(in); err == nil {
			t.Errorf("ParseContentRule(%q) = %+v, want an error", in, r)
		}
	}
}

// On Samba the object classes alone forbid sAMAccountName on a user (the bug
// report); the DIT content rule, which folds in the auxiliary classes AD
// applies without listing them (securityPrincipal), permits it. A real mistake
// still shows.
func TestSchemaSambaContentRules(t *testing.T) {
	s := sambaSchema(t)
	classes := func(names ...string) []*ldapmap.ObjectClass {
		var out []*ldapmap.ObjectClass
		for _, n := range names {
			if s.Class(n) == nil {
				t.Fatalf("no class %s", n)
			}
			out = append(out, s.Class(n))
		}
		return out
	}
	users := classes("top", "person", "organizationalPerson", "user")
	groups := classes("top", "group")
	for _, tc := range []struct {
		name    string
		classes []*ldapmap.ObjectClass
		attr    string
		want    bool
	}{
		{"users", users, "sAMAccountName", true}, // MUST of user's rule, from securityPrincipal
		{"users", users, "userPrincipalName", true},
		{"users", users, "unicodePwd", true},
		{"users", users, "gidNumber", true}, // MAY of user's rule, from posixAccount
		{"users", users, "groupType", false},
		{"users", users, "member", false},
		{"groups", groups, "sAMAccountName", true},
		{"groups", groups, "description", true},
		{"groups", groups, "userPrincipalName", false},
		{"person, no rule", classes("top", "person"), "sAMAccountName", false},
		// computer's own rule lacks securityPrincipal; AD inherits user's.
		{"computer", classes("top", "computer"), "sAMAccountName", true},
	} {
		if got := s.Allows(tc.classes, s.Attribute(tc.attr)); got != tc.want {
			t.Errorf("Allows(%s, %s) = %v", tc.name, tc.attr, got)
		}
	}
	req := func(cs []*ldapmap.ObjectClass) string {
		var out []string
		for _, r := range s.Requires(cs) {
			from := r.Class
			if r.Rule {
				from = "rule " + from
			}
			flag := ""
			if r.Type != nil && r.Type.NoUserModification {
				flag = "!"
			}
			out = append(out, r.Attr+flag+"<"+from)
		}
		return strings.Join(out, " ")
	}
	// instanceType and objectSid are systemOnly, published as
	// NO-USER-MODIFICATION (!); objectCategory and nTSecurityDescriptor are not.
	if got := req(users); got != "objectCategory<top nTSecurityDescriptor<top instanceType!<top cn<person "+
		"sAMAccountName<rule user objectSid!<rule user" {
		t.Errorf("Requires(users) = %s", got)
	}
	if got := req(groups); got != "objectCategory<top nTSecurityDescriptor<top instanceType!<top groupType<group "+
		"cn<rule group sAMAccountName<rule group objectSid!<rule group" {
		t.Errorf("Requires(groups) = %s", got)
	}
	// Only the entry's own structural class's rule binds (RFC 4512 §4.1.6):
	// computer's rule requires nothing, and user's is not computer's.
	if got := req(classes("computer")); got != "cn<person objectCategory<top nTSecurityDescriptor<top instanceType!<top" {
		t.Errorf("Requires(computer) = %s", got)
	}
	if r := s.ContentRule(s.Class("group")); r == nil || r.Name() != "group" || len(r.Aux) != 3 {
		t.Errorf("ContentRule(group) = %+v", r)
	}
	if s.ContentRule(s.Class("person")) != nil || s.ContentRule(nil) != nil {
		t.Error("person has no rule")
	}
	for attr, want := range map[string]bool{
		"objectCategory": true, "NTSECURITYDESCRIPTOR": true, "instanceType": true,
		"objectSid": true, "sAMAccountName": true, "cn": false, "groupType": false, "mail": false,
	} {
		if got := ldapmap.ADFillsOnAdd(attr); got != want {
			t.Errorf("ADFillsOnAdd(%s) = %v", attr, got)
		}
	}
}

// The standard reading of a DIT content rule on a non-AD schema: AUX only
// permits a class, whose attributes come with listing it; MUST adds to the
// classes' MUST; NOT precludes.
func TestSchemaContentRuleSemantics(t *testing.T) {
	rule := `( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPersonRule' AUX posixAccount MUST mail MAY memberUid NOT description )`
	s, err := ldapmap.NewSchema(realAttributeDefs, realClasses, []string{rule})
	if err != nil {
		t.Fatal(err)
	}
	users := []*ldapmap.ObjectClass{s.Class("top"), s.Class("person"), s.Class("organizationalPerson"), s.Class("inetOrgPerson")}
	withPosix := append(append([]*ldapmap.ObjectClass{}, users...), s.Class("posixAccount"))
	for _, tc := range []struct {
		name    string
		classes []*ldapmap.ObjectClass
		attr    string
		want    bool
	}{
		{"users", users, "gidNumber", false}, // posixAccount permitted, not present
		{"users+posixAccount", withPosix, "gidNumber", true},
		{"users", users, "memberUid", true}, // the rule's MAY
		{"users", users, "description", false},
		{"person", users[:2], "description", true}, // inetOrgPerson's rule is not person's
	} {
		if got := s.Allows(tc.classes, s.Attribute(tc.attr)); got != tc.want {
			t.Errorf("Allows(%s, %s) = %v", tc.name, tc.attr, got)
		}
	}
	if got := s.PrecludedBy(users, s.Attribute("description")); got != "inetOrgPersonRule" {
		t.Errorf("PrecludedBy(description) = %q", got)
	}
	if got := s.PrecludedBy(users, s.Attribute("mail")); got != "" {
		t.Errorf("PrecludedBy(mail) = %q", got)
	}
	var must []string
	for _, r := range s.Requires(users) {
		must = append(must, r.Attr)
		if r.Rule != (r.Attr == "mail") {
			t.Errorf("Requires: %+v", r)
		}
	}
	if strings.Join(must, " ") != "sn cn mail" {
		t.Errorf("Requires(users) = %v", must)
	}
}
